package sla

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
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
	ps := &problems{file: filename}
	if len(src) > MaxSize {
		ps.add(pos{1, 1}, "the document is larger than %d bytes", MaxSize)
		return nil, ps.err()
	}
	if !utf8.Valid(src) {
		ps.add(pos{1, 1}, "the document is not valid UTF-8")
		return nil, ps.err()
	}
	f, err := parseYAML(src)
	if err != nil {
		ps.add(errPos(err), "YAML: %s", errMessage(err))
		return nil, ps.err()
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			if body != nil {
				ps.add(nodePos(d.Body), "the document must hold one YAML document")
				return nil, ps.err()
			}
			body = d.Body
		}
	}
	if body == nil {
		ps.add(pos{1, 1}, "the document is empty; it needs at least a policies list")
		return nil, ps.err()
	}
	var raw file
	if err := yaml.NodeToValue(body, &raw, yaml.Strict()); err != nil {
		ps.add(errPos(err), "%s", errMessage(err))
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
				ps.add(ps.at(f, "calendar."+d.Where), "calendar.%s: %s", d.Where, d.Message)
			}
		} else {
			ps.add(ps.at(f, "calendar"), "calendar: %s", leadflow.ErrorMessage(err))
		}
	} else {
		out.Config = cfg
		if out.Calendar, err = calendar.New(cfg); err != nil {
			ps.add(ps.at(f, "calendar"), "calendar: %s", leadflow.ErrorMessage(err))
		}
	}

	if len(raw.Policies) > maxPolicies {
		ps.add(ps.at(f, "policies"), "%d policies; at most %d are allowed", len(raw.Policies), maxPolicies)
		return nil, ps.err()
	}
	seen := map[string]int{}
	for i, fp := range raw.Policies {
		where := fmt.Sprintf("policies[%d]", i)
		at := func(field string) pos { return ps.at(f, where+"."+field) }
		p := Policy{ID: strings.TrimSpace(fp.ID), Stage: leadflow.Stage(fp.Stage), Target: Target(fp.Target)}
		switch {
		case p.ID == "":
			ps.add(at("id"), "policy needs an id")
		case len(p.ID) > maxIDLen || !idPattern.MatchString(p.ID):
			ps.add(at("id"), "id %q must be letters, digits, '-', '_' or '.', at most %d characters", p.ID, maxIDLen)
		default:
			if first, dup := seen[p.ID]; dup {
				ps.add(at("id"), "duplicate policy id %q (first at policies[%d])", p.ID, first)
			}
			seen[p.ID] = i
		}
		switch {
		case fp.Stage == "":
			ps.add(at("stage"), "policy needs a stage; use one of %s", stageNames())
		case !p.Stage.Valid():
			ps.add(at("stage"), "unknown stage %q; use one of %s", fp.Stage, stageNames())
		}
		const targets = "first_touch (a call, email or meeting logged) or accept (accepted or rejected)"
		switch {
		case fp.Target == "":
			ps.add(at("target"), "policy needs a target: %s", targets)
		case !p.Target.Valid():
			ps.add(at("target"), "unknown target %q; use %s", fp.Target, targets)
		}
		w, msg := parseWithin(fp.Within)
		if msg != "" {
			ps.add(at("within"), "%s", msg)
		}
		p.Within = w
		p.WarnAt = 0.75
		if fp.WarnAt != nil {
			v, msg := parsePercent(*fp.WarnAt)
			if msg != "" {
				ps.add(at("warn_at"), "%s", msg)
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

// parseYAML parses src, turning a parser panic into an error: the document
// comes from users and must never take the process down.
func parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(src, 0)
}

// pos is a 1-based line:column.
type pos struct{ line, col int }

func nodePos(n ast.Node) pos {
	if n == nil {
		return pos{1, 1}
	}
	if mn, ok := n.(*ast.MappingNode); ok && !mn.IsFlowStyle && len(mn.Values) > 0 && mn.Values[0] != nil && mn.Values[0].Key != nil {
		n = mn.Values[0].Key // a block mapping's own token is its first ':'
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

// yamlError is what goccy/go-yaml's syntax, type and unknown-field errors
// have in common.
type yamlError interface {
	GetToken() *token.Token
	GetMessage() string
}

func errPos(err error) pos {
	var ye yamlError
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
		}
	}
	return pos{1, 1}
}

func errMessage(err error) string {
	var ye yamlError
	if errors.As(err, &ye) {
		return ye.GetMessage()
	}
	return err.Error()
}

// problems collects every located problem of one document.
type problems struct {
	file string
	list []problem
}

type problem struct {
	at  pos
	msg string
}

func (p *problems) add(at pos, format string, args ...any) {
	p.list = append(p.list, problem{at, fmt.Sprintf(format, args...)})
}

// at returns the position of the node at a dotted path such as
// "policies[1].within"; when the node is missing it falls back to its
// nearest parent, so a missing field points at the policy that lacks it.
func (p *problems) at(f *ast.File, path string) pos {
	for path != "" {
		if yp, err := yaml.PathString("$." + path); err == nil {
			if n, err := yp.FilterFile(f); err == nil && n != nil {
				return nodePos(n)
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return pos{1, 1}
}

// err returns the problems as one EINVALID error sorted by position, or nil.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b problem) int {
		if a.at.line != b.at.line {
			return a.at.line - b.at.line
		}
		return a.at.col - b.at.col
	})
	e := &leadflow.Error{Code: leadflow.EINVALID, Message: "SLA policies are invalid"}
	for _, pr := range p.list {
		e.Details = append(e.Details, leadflow.Detail{
			Where: fmt.Sprintf("%s:%d:%d", p.file, pr.at.line, pr.at.col), Message: pr.msg})
	}
	return e
}
