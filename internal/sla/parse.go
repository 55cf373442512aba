package sla

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
	"github.com/leadflow/leadflow/internal/yamlpos"
)

// Limits that keep a hostile settings document small.
const (
	// MaxSize is the largest settings document Parse accepts, in bytes.
	MaxSize     = 256 << 10
	maxPolicies = 200
	maxIDLen    = 100
	// maxWithin bounds a policy's allowed time: an SLA is hours or days,
	// and the calendar scans at most ten years.
	maxWithinDays  = 365
	maxWithinHours = 2000 * time.Hour
)

// file is the settings document as written.
type file struct {
	Calendar *calendar.FileConfig `yaml:"calendar"`
	Policies []filePolicy         `yaml:"policies"`
}

type filePolicy struct {
	ID       string          `yaml:"id"`
	Stage    string          `yaml:"stage"`
	Target   string          `yaml:"target"`
	Within   string          `yaml:"within"`
	WarnAt   *string         `yaml:"warn_at"`
	Escalate *fileEscalation `yaml:"escalate"`
}

type fileEscalation struct {
	NotifyManager *bool `yaml:"notify_manager"`
	Reassign      bool  `yaml:"reassign"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Parse reads and validates an SLA settings document. Every problem is
// reported at once, as one leadflow.EINVALID error "SLA policies are
// invalid" with a Detail per problem located at filename:line:col.
func Parse(filename string, src []byte) (*Policies, error) {
	ps := &problems{Problems: yamlpos.Problems{File: filename}}
	if len(src) > MaxSize {
		ps.Add(yamlpos.At(1, 1), "the document is larger than %d bytes", MaxSize)
		return nil, ps.err()
	}
	if !utf8.Valid(src) {
		ps.Add(yamlpos.At(1, 1), "the document is not valid UTF-8")
		return nil, ps.err()
	}
	f, err := yamlpos.ParseFile(src)
	if err != nil {
		at, msg := yamlpos.ErrorOf(err)
		ps.Add(at, "YAML: %s", msg)
		return nil, ps.err()
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			if body != nil {
				ps.Add(yamlpos.Of(d.Body), "the document must hold one YAML document")
				return nil, ps.err()
			}
			body = d.Body
		}
	}
	if body == nil {
		ps.Add(yamlpos.At(1, 1), "the document is empty; it needs at least a policies list")
		return nil, ps.err()
	}
	var raw file
	if err := yaml.NodeToValue(body, &raw, yaml.Strict()); err != nil {
		at, msg := yamlpos.ErrorOf(err)
		ps.Add(at, "%s", msg)
		return nil, ps.err()
	}

	out := &Policies{Source: string(src)}
	fc := calendar.FileConfig{}
	if raw.Calendar != nil {
		fc = *raw.Calendar
	}
	cfg, err := calendar.ParseConfig(fc)
	if err != nil {
		var le *leadflow.Error
		if errors.As(err, &le) && len(le.Details) > 0 {
			for _, d := range le.Details {
				ps.Add(yamlpos.PathPos(f, "calendar."+d.Where), "calendar.%s: %s", d.Where, d.Message)
			}
		} else {
			ps.Add(yamlpos.PathPos(f, "calendar"), "calendar: %s", leadflow.ErrorMessage(err))
		}
	} else {
		out.Config = cfg
		if out.Calendar, err = calendar.New(cfg); err != nil {
			ps.Add(yamlpos.PathPos(f, "calendar"), "calendar: %s", leadflow.ErrorMessage(err))
		}
	}

	if len(raw.Policies) > maxPolicies {
		ps.Add(yamlpos.PathPos(f, "policies"), "%d policies; at most %d are allowed", len(raw.Policies), maxPolicies)
		return nil, ps.err()
	}
	seen := map[string]int{}
	for i, fp := range raw.Policies {
		where := fmt.Sprintf("policies[%d]", i)
		at := func(field string) yamlpos.Pos { return yamlpos.PathPos(f, where+"."+field) }
		p := Policy{ID: strings.TrimSpace(fp.ID), Stage: leadflow.Stage(fp.Stage), Target: Target(fp.Target)}
		switch {
		case p.ID == "":
			ps.Add(at("id"), "policy needs an id")
		case len(p.ID) > maxIDLen || !idPattern.MatchString(p.ID):
			ps.Add(at("id"), "id %q must be letters, digits, '-', '_' or '.', at most %d characters", p.ID, maxIDLen)
		default:
			if first, dup := seen[p.ID]; dup {
				ps.Add(at("id"), "duplicate policy id %q (first at policies[%d])", p.ID, first)
			}
			seen[p.ID] = i
		}
		switch {
		case fp.Stage == "":
			ps.Add(at("stage"), "policy needs a stage; use one of %s", stageNames())
		case !p.Stage.Valid():
			ps.Add(at("stage"), "unknown stage %q; use one of %s", fp.Stage, stageNames())
		}
		const targets = "first_touch (a call, email or meeting logged) or accept (accepted or rejected)"
		switch {
		case fp.Target == "":
			ps.Add(at("target"), "policy needs a target: %s", targets)
		case !p.Target.Valid():
			ps.Add(at("target"), "unknown target %q; use %s", fp.Target, targets)
		}
		w, msg := parseWithin(fp.Within)
		if msg != "" {
			ps.Add(at("within"), "%s", msg)
		}
		p.Within = w
		p.WarnAt = 0.75
		if fp.WarnAt != nil {
			v, msg := parsePercent(*fp.WarnAt)
			if msg != "" {
				ps.Add(at("warn_at"), "%s", msg)
			}
			p.WarnAt = v
		}
		p.Escalate = Escalation{NotifyManager: true}
		if e := fp.Escalate; e != nil {
			if e.NotifyManager != nil {
				p.Escalate.NotifyManager = *e.NotifyManager
			}
			p.Escalate.Reassign = e.Reassign
		}
		out.List = append(out.List, p)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func stageNames() string {
	names := make([]string, 0, len(leadflow.FunnelStages)+2)
	for _, s := range leadflow.FunnelStages {
		names = append(names, string(s))
	}
	return strings.Join(append(names, string(leadflow.StageRecycled), string(leadflow.StageDisqualified)), ", ")
}

// parseWithin reads "1h", "90m", "1h30m" (business time) or "2d" (business
// days); it returns a message for the admin when s is not one of those.
func parseWithin(s string) (Within, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Within{}, "policy needs within, e.g. 1h (business hours) or 2d (business days)"
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > maxWithinDays {
			return Within{}, fmt.Sprintf("within %q: business days must be a whole number from 1d to %dd", s, maxWithinDays)
		}
		return Within{Days: days}, ""
	}
	d, err := time.ParseDuration(s)
	if err != nil || strings.ContainsAny(s, "sµnu") || d%time.Minute != 0 {
		return Within{}, fmt.Sprintf("within %q is not a business time; write minutes or hours (30m, 1h, 1h30m) or days (2d)", s)
	}
	if d < time.Minute || d > maxWithinHours {
		return Within{}, fmt.Sprintf("within %q must be from 1m to %dh", s, int(maxWithinHours/time.Hour))
	}
	return Within{Duration: d}, ""
}

// parsePercent reads "75%" (or a bare 75) as 0.75; "0%" turns the warning
// off.
func parsePercent(s string) (float64, string) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v >= 100 {
		return 0, fmt.Sprintf("warn_at %q must be a percentage of the allowed time from 0%% (no warning) to 99%%, e.g. 75%%", s)
	}
	return v / 100, ""
}

// problems collects every located problem of the document; its error says
// "SLA policies are invalid".
type problems struct{ yamlpos.Problems }

func (p *problems) err() error { return p.Err("SLA policies are invalid") }
