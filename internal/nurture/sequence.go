// Package nurture runs nurture sequences: ordered steps (email, wait,
// task, branch) that a lead is enrolled in on a stage change and leaves on
// another, each step a durable River job. Emails go out through the SMTP
// server of the notification settings, with signed tracking links (open
// pixel, click redirect) and a one-click unsubscribe whose events the flow
// scores like any other.
package nurture

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
)

// Step kinds.
const (
	StepEmail  = "email"
	StepWait   = "wait"
	StepTask   = "task"
	StepBranch = "branch"
)

// End is the branch target that ends the sequence.
const End = "end"

// Sequence is a compiled, validated sequence.
type Sequence struct {
	// ID is the stored sequence's id (0 until stored).
	ID          int64
	Name        string
	Description string
	// From is the sender; empty: the From of the SMTP settings.
	From      string
	Enrol     Enrol
	Exit      Exit
	Templates map[string]*Template
	Steps     []Step
	Source    string
	// Active sequences enrol new leads; an inactive one only finishes the
	// enrolments it has.
	Active bool
}

// Enrol says which leads join: those entering one of Stages, after they
// stayed After in it (zero: at once), when When holds and Exclude does not.
// Unsubscribed, suppressed, disqualified leads and customers never join.
type Enrol struct {
	Stages  []leadflow.Stage
	After   Wait
	When    *Condition
	Exclude *Condition
}

// Exit says when a lead leaves early: on reaching one of Stages, or on an
// event named in Events (e.g. "Email Replied"). An unsubscribe always
// ends every sequence.
type Exit struct {
	Stages []leadflow.Stage
	Events []string
}

// DefaultExitStages apply when a sequence names none: reaching SQL (or
// beyond) converts; a disqualified lead leaves too.
var DefaultExitStages = []leadflow.Stage{leadflow.StageSQL, leadflow.StageHQL, leadflow.StageOpportunity,
	leadflow.StageCustomer, leadflow.StageDisqualified}

// Step is one step of a sequence.
type Step struct {
	ID   string
	Kind string
	// Template is the template id of an email step.
	Template string
	// Wait is the pause of a wait step, and the time a task is due in.
	Wait Wait
	// TaskKind (call, email, meeting, other), Title and Owner of a task
	// step; an empty owner is the lead's owner.
	TaskKind, Title, Owner string
	// If, Then and Else of a branch step: step indexes, len(Steps) ends.
	If         *Condition
	Then, Else int
}

// Wait is a pause: a plain duration, or business days or hours on the
// company calendar.
type Wait struct {
	D             time.Duration
	BusinessDays  int
	BusinessHours time.Duration
	Text          string
}

// IsZero reports whether the wait is no wait.
func (w Wait) IsZero() bool { return w.D == 0 && w.BusinessDays == 0 && w.BusinessHours == 0 }

// Until returns when a wait that starts at from ends.
func (w Wait) Until(from time.Time, cal *calendar.Calendar) time.Time {
	switch {
	case w.BusinessDays > 0 && cal != nil:
		return cal.AddDays(from, w.BusinessDays).UTC()
	case w.BusinessHours > 0 && cal != nil:
		return cal.Add(from, w.BusinessHours).UTC()
	case w.BusinessDays > 0:
		return from.AddDate(0, 0, w.BusinessDays)
	case w.BusinessHours > 0:
		return from.Add(w.BusinessHours)
	}
	return from.Add(w.D)
}

var (
	reBusiness = regexp.MustCompile(`^(\d+)\s*(?:bd|business\s+days?|営業日)$`)
	reBHours   = regexp.MustCompile(`^(\d+)\s*(?:bh|business\s+hours?|営業時間)$`)
	reDays     = regexp.MustCompile(`^(\d+)\s*(?:d|days?|日)$`)
)

// ParseWait reads "3d", "36h", "2 business days" (or "2bd"), "4 business
// hours" (or "4bh").
func ParseWait(s string) (Wait, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	w := Wait{Text: s}
	if m := reBusiness.FindStringSubmatch(s); m != nil {
		w.BusinessDays, _ = strconv.Atoi(m[1])
		return w, nil
	}
	if m := reBHours.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		w.BusinessHours = time.Duration(n) * time.Hour
		return w, nil
	}
	if m := reDays.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		w.D = time.Duration(n) * 24 * time.Hour
		return w, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return Wait{}, fmt.Errorf(`%q is not a wait: use e.g. "3d", "12h", "2 business days" or "4 business hours"`, s)
	}
	w.D = d
	return w, nil
}

type fileSequence struct {
	Name        string                  `yaml:"name"`
	Description string                  `yaml:"description"`
	From        string                  `yaml:"from"`
	Enrol       fileEnrol               `yaml:"enrol"`
	Exit        fileExit                `yaml:"exit"`
	Templates   map[string]fileTemplate `yaml:"templates"`
	Steps       []fileStep              `yaml:"steps"`
}

type fileEnrol struct {
	Stages  []string `yaml:"stages"`
	After   string   `yaml:"after"`
	When    string   `yaml:"when"`
	Exclude string   `yaml:"exclude"`
}

type fileExit struct {
	Stages []string `yaml:"stages"`
	Events []string `yaml:"events"`
}

type fileTemplate struct {
	Subject string `yaml:"subject"`
	Text    string `yaml:"text"`
	HTML    string `yaml:"html"`
}

type fileStep struct {
	ID     string      `yaml:"id"`
	Email  string      `yaml:"email"`
	Wait   string      `yaml:"wait"`
	Task   *fileTask   `yaml:"task"`
	Branch *fileBranch `yaml:"branch"`
}

type fileTask struct {
	Kind  string `yaml:"kind"`
	Title string `yaml:"title"`
	Due   string `yaml:"due"`
	Owner string `yaml:"owner"`
}

type fileBranch struct {
	If   string `yaml:"if"`
	Then string `yaml:"then"`
	Else string `yaml:"else"`
}

var reID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// problems collects located problems of one document.
type problems struct {
	file string
	f    *ast.File
	list []leadflow.Detail
}

func (p *problems) add(path, format string, args ...any) {
	where := p.file
	if p.f != nil {
		if yp, err := yaml.PathString(path); err == nil {
			if n, err := yp.FilterFile(p.f); err == nil && n != nil {
				if tk := n.GetToken(); tk != nil && tk.Position != nil {
					where = fmt.Sprintf("%s:%d:%d", p.file, tk.Position.Line, tk.Position.Column)
				}
			}
		}
	}
	if where == p.file {
		where += " " + strings.TrimPrefix(path, "$.")
	}
	p.list = append(p.list, leadflow.Detail{Where: where, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &leadflow.Error{Code: leadflow.EINVALID, Message: "the sequence is invalid: " + p.list[0].Where + ": " + p.list[0].Message,
		Details: p.list}
}

// Parse reads and validates a sequence document. Every problem is
// reported with its line and column: templates that do not parse or use
// unknown fields, unknown stages, bad waits, conditions that do not
// type-check, and branches that would loop (a branch may only jump
// forward).
func Parse(filename string, src []byte) (*Sequence, error) {
	if filename == "" {
		filename = "sequence.yaml"
	}
	ps := &problems{file: filename}
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, &leadflow.Error{Code: leadflow.EINVALID, Message: "the sequence is not valid YAML",
			Details: []leadflow.Detail{{Where: filename, Message: yaml.FormatError(err, false, true)}}}
	}
	ps.f = f
	var fs fileSequence
	if err := yaml.NewDecoder(bytes.NewReader(src), yaml.DisallowUnknownField()).Decode(&fs); err != nil {
		return nil, &leadflow.Error{Code: leadflow.EINVALID, Message: "the sequence is invalid: " + firstLine(yaml.FormatError(err, false, false)),
			Details: []leadflow.Detail{{Where: filename, Message: yaml.FormatError(err, false, true)}}}
	}
	env, err := newEnv()
	if err != nil {
		return nil, leadflow.Internal(err, "nurture CEL environment")
	}
	s := &Sequence{Name: strings.TrimSpace(fs.Name), Description: fs.Description, From: fs.From, Source: string(src),
		Templates: map[string]*Template{}}
	if !reID.MatchString(s.Name) {
		ps.add("$.name", "give the sequence a name of lower-case letters, digits, - or _ (got %q)", fs.Name)
	}
	if s.From != "" {
		if err := checkAddress(s.From); err != nil {
			ps.add("$.from", "%v", err)
		}
	}
	s.Enrol.Stages = stages(ps, "$.enrol.stages", fs.Enrol.Stages)
	for i, st := range s.Enrol.Stages {
		if st == leadflow.StageCustomer || st == leadflow.StageDisqualified {
			ps.add(fmt.Sprintf("$.enrol.stages[%d]", i), "%s leads are never enrolled", st)
		}
	}
	if fs.Enrol.After != "" {
		if s.Enrol.After, err = ParseWait(fs.Enrol.After); err != nil {
			ps.add("$.enrol.after", "%v", err)
		}
	}
	cond := func(path, src string) *Condition {
		if strings.TrimSpace(src) == "" {
			return nil
		}
		c, err := compileCondition(env, src)
		if err != nil {
			ps.add(path, "%v", err)
		}
		return c
	}
	s.Enrol.When = cond("$.enrol.when", fs.Enrol.When)
	s.Enrol.Exclude = cond("$.enrol.exclude", fs.Enrol.Exclude)
	s.Exit.Stages = stages(ps, "$.exit.stages", fs.Exit.Stages)
	if len(fs.Exit.Stages) == 0 {
		s.Exit.Stages = DefaultExitStages
	}
	s.Exit.Events = fs.Exit.Events

	names := make([]string, 0, len(fs.Templates))
	for id := range fs.Templates {
		names = append(names, id)
	}
	slices.Sort(names)
	for _, id := range names {
		t, err := NewTemplate(id, fs.Templates[id].Subject, fs.Templates[id].Text, fs.Templates[id].HTML)
		if err != nil {
			ps.add("$.templates."+id, "%v", err)
			continue
		}
		s.Templates[id] = t
	}

	if len(fs.Steps) == 0 {
		ps.add("$.steps", "a sequence needs at least one step")
	}
	index := map[string]int{}
	for i, fst := range fs.Steps {
		path := fmt.Sprintf("$.steps[%d]", i)
		id := fst.ID
		if id == "" {
			id = fmt.Sprintf("step-%d", i+1)
		} else if !reID.MatchString(id) || id == End {
			ps.add(path+".id", "step id %q: use lower-case letters, digits, - or _ (and not %q)", id, End)
		}
		if prev, dup := index[id]; dup {
			ps.add(path+".id", "step id %q is used twice (also step %d)", id, prev+1)
		}
		index[id] = i
		st := Step{ID: id}
		n := 0
		if fst.Email != "" {
			n++
			st.Kind, st.Template = StepEmail, fst.Email
			if _, ok := fs.Templates[fst.Email]; !ok {
				ps.add(path+".email", "no template %q in templates", fst.Email)
			}
		}
		if fst.Wait != "" {
			n++
			st.Kind = StepWait
			if st.Wait, err = ParseWait(fst.Wait); err != nil {
				ps.add(path+".wait", "%v", err)
			}
		}
		if t := fst.Task; t != nil {
			n++
			st.Kind, st.TaskKind, st.Title, st.Owner = StepTask, t.Kind, t.Title, t.Owner
			if st.TaskKind == "" {
				st.TaskKind = "call"
			}
			if !slices.Contains([]string{"call", "email", "meeting", "other"}, st.TaskKind) {
				ps.add(path+".task.kind", "task kind %q: use call, email, meeting or other", t.Kind)
			}
			if strings.TrimSpace(st.Title) == "" {
				ps.add(path+".task", "a task needs a title (what inside sales should do)")
			}
			due := t.Due
			if due == "" {
				due = "1 business day"
			}
			if st.Wait, err = ParseWait(due); err != nil {
				ps.add(path+".task.due", "%v", err)
			}
		}
		if b := fst.Branch; b != nil {
			n++
			st.Kind = StepBranch
			if strings.TrimSpace(b.If) == "" {
				ps.add(path+".branch", "a branch needs a condition (if)")
			} else {
				st.If = cond(path+".branch.if", b.If)
			}
		}
		if n != 1 {
			ps.add(path, "a step is exactly one of email, wait, task or branch")
		}
		s.Steps = append(s.Steps, st)
	}
	// Branch targets: only forward, so a sequence cannot loop.
	for i, fst := range fs.Steps {
		b := fst.Branch
		if b == nil || i >= len(s.Steps) {
			continue
		}
		target := func(key, name string) int {
			if name == "" {
				return i + 1
			}
			if name == End {
				return len(s.Steps)
			}
			j, ok := index[name]
			if !ok {
				ps.add(fmt.Sprintf("$.steps[%d].branch.%s", i, key), "no step %q", name)
				return i + 1
			}
			if j <= i {
				ps.add(fmt.Sprintf("$.steps[%d].branch.%s", i, key),
					"jumping back to step %q would loop: a branch may only jump forward (or to %q)", name, End)
				return i + 1
			}
			return j
		}
		s.Steps[i].Then, s.Steps[i].Else = target("then", b.Then), target("else", b.Else)
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func stages(ps *problems, path string, names []string) []leadflow.Stage {
	var out []leadflow.Stage
	for i, n := range names {
		st := leadflow.Stage(strings.ToLower(strings.TrimSpace(n)))
		if !st.Valid() {
			ps.add(fmt.Sprintf("%s[%d]", path, i), "unknown stage %q", n)
			continue
		}
		out = append(out, st)
	}
	return out
}

// EnrolsOn reports whether entering stage enrols leads.
func (s *Sequence) EnrolsOn(stage leadflow.Stage) bool { return slices.Contains(s.Enrol.Stages, stage) }

// ExitsOn reports whether reaching stage ends an enrolment, and the exit
// reason: converted for SQL and beyond.
func (s *Sequence) ExitsOn(stage leadflow.Stage) (string, bool) {
	if stage == leadflow.StageDisqualified || stage == leadflow.StageCustomer || slices.Contains(s.Exit.Stages, stage) {
		if stage.Rank() >= leadflow.StageSQL.Rank() {
			return "converted", true
		}
		return "stage:" + string(stage), true
	}
	return "", false
}

// ExitsOnEvent reports whether an event of that name ends an enrolment.
func (s *Sequence) ExitsOnEvent(name string) bool {
	return name != "" && slices.Contains(s.Exit.Events, name)
}

// Eligible reports whether the lead may be enrolled: not unsubscribed, not
// disqualified or a customer, with an email, When holding and Exclude not.
// suppressed is the address's suppression reason ("" when none).
func (s *Sequence) Eligible(f Facts, suppressed string) (bool, string) {
	l := f.Lead
	switch {
	case l.Unsubscribed:
		return false, "unsubscribed"
	case suppressed != "":
		return false, "suppressed: " + suppressed
	case l.Stage == leadflow.StageDisqualified || l.Stage == leadflow.StageCustomer:
		return false, "stage " + string(l.Stage)
	case s.Enrol.When != nil && !s.Enrol.When.Holds(f):
		return false, "enrol.when does not hold"
	case s.Enrol.Exclude != nil && s.Enrol.Exclude.Holds(f):
		return false, "excluded by enrol.exclude"
	}
	return true, ""
}
