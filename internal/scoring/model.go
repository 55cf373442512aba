package scoring

import (
	_ "embed"
	"strings"

	"github.com/google/cel-go/cel"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/yamlpos"
)

// DefaultModel is the scoring model leadflow starts with: the example of
// the product definition plus a stale-MQL expiry rule.
//
//go:embed default.yaml
var DefaultModel []byte

// ruleStages are the stages a model may define rules for, in funnel order.
var ruleStages = [...]leadflow.Stage{leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL}

// Model is a compiled scoring model. It is immutable and safe for
// concurrent use; a Matcher (one per goroutine) adds memoization.
type Model struct {
	// Name and Description come from the file.
	Name, Description string
	// Source is the YAML the model was compiled from.
	Source []byte

	fit      []*rule
	behavior []*rule
	byID     map[string]*rule // fit and behavior rules by id
	decay    Decay
	stages   [len(ruleStages)]*rule // nil when the model has no rule for the stage
	expiry   []*expiryRule

	groups      []*group // behavior rules grouped by the fields they read
	fitGroups   []*group // fit rules likewise
	eventFields []string
	thresholds  map[leadflow.Stage]float64
}

// rule is one compiled condition.
type rule struct {
	kind   envKind
	index  int // position among the rules of its kind
	id     string
	when   string
	points float64
	max    float64
	hasMax bool
	prg    cel.Program
	ast    *cel.Ast
}

// expiryRule moves a lead that stayed too long in a stage.
type expiryRule struct {
	*rule
	stage  leadflow.Stage
	after  Duration
	to     leadflow.Stage
	reason string
}

// Compile parses and checks a model file. Every problem found is reported
// in one *leadflow.Error (EINVALID) whose Details locate each problem as
// "filename:line:column". Compile never panics, whatever src holds.
func Compile(filename string, src []byte) (*Model, error) {
	if filename == "" {
		filename = "model.yaml"
	}
	ps := &yamlpos.Problems{File: filename}
	raw := parseModel(src, ps)
	if raw == nil {
		return nil, ps.Err("model is invalid")
	}
	es, err := newEnvs()
	if err != nil {
		return nil, leadflow.Internal(err, "building the CEL environment")
	}
	m := &Model{
		Name:        raw.name,
		Description: raw.description,
		Source:      append([]byte(nil), src...),
		byID:        map[string]*rule{},
		decay:       raw.decay,
	}
	c := compiler{envs: es, src: src, ps: ps}
	for i, r := range raw.fit {
		if cr := c.rule(envFit, r.when, "fit rule "+r.id); cr != nil {
			cr.index, cr.id, cr.points = i, r.id, r.points
			m.fit = append(m.fit, cr)
			m.byID[r.id] = cr
		}
	}
	for _, r := range raw.behavior {
		if cr := c.rule(envBehavior, r.when, "behavior rule "+r.id); cr != nil {
			cr.index, cr.id, cr.points, cr.max, cr.hasMax = len(m.behavior), r.id, r.points, r.max, r.hasMax
			m.behavior = append(m.behavior, cr)
			m.byID[r.id] = cr
		}
	}
	for i, s := range ruleStages {
		if x, ok := raw.stages[s]; ok {
			if cr := c.rule(envStage, x, "stages."+string(s)); cr != nil {
				cr.id = string(s)
				m.stages[i] = cr
			}
		}
	}
	for _, r := range raw.expiry {
		if cr := c.rule(envExpiry, r.when, "expiry rule "+r.id); cr != nil {
			cr.id = r.id
			m.expiry = append(m.expiry, &expiryRule{rule: cr, stage: r.stage, after: r.after, to: r.to, reason: r.reason})
		}
	}
	if !ps.Empty() {
		return nil, ps.Err("model is invalid")
	}
	m.groups = groupRules(m.behavior)
	m.fitGroups = groupRules(m.fit)
	m.eventFields = eventFields(append(append([]*rule(nil), m.behavior...), m.stages[:]...)...)
	m.thresholds = map[leadflow.Stage]float64{}
	for i, r := range m.stages {
		if r == nil {
			continue
		}
		if t, ok := scoreThreshold(r.ast.NativeRep().Expr()); ok {
			m.thresholds[ruleStages[i]] = t
		}
	}
	return m, nil
}

// MustCompile is Compile for models known to be valid (tests, DefaultModel).
func MustCompile(filename string, src []byte) *Model {
	m, err := Compile(filename, src)
	if err != nil {
		panic(err)
	}
	return m
}

// compiler turns expressions into programs, locating CEL errors in the file.
type compiler struct {
	envs envs
	src  []byte
	ps   *yamlpos.Problems
}

func (c *compiler) rule(k envKind, x rawExpr, what string) *rule {
	if strings.TrimSpace(x.text) == "" {
		return nil // reported by the walker
	}
	env := c.envs[k]
	a, iss := env.Compile(x.text)
	if iss != nil && iss.Err() != nil {
		for _, e := range iss.Errors() {
			at := yamlpos.InExpr(c.src, x.node, x.text, e.Location.Line(), e.Location.Column())
			c.ps.Add(at, "%s: %s", what, celMessage(e.Message, k))
		}
		return nil
	}
	if !a.OutputType().IsExactType(cel.BoolType) {
		c.ps.Add(yamlpos.InExpr(c.src, x.node, x.text, 1, 0),
			"%s: condition must be true or false, but it is %s", what, a.OutputType())
		return nil
	}
	prg, err := env.Program(a, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(celCostLimit))
	if err != nil {
		c.ps.Add(yamlpos.InExpr(c.src, x.node, x.text, 1, 0), "%s: %v", what, err)
		return nil
	}
	return &rule{kind: k, when: strings.TrimSpace(x.text), prg: prg, ast: a}
}

// celMessage makes a CEL checker message readable for a model author.
func celMessage(msg string, k envKind) string {
	if strings.HasPrefix(msg, "undeclared reference to '") {
		vars := map[envKind]string{
			envFit:      "lead",
			envBehavior: "lead, event",
			envStage:    "score, fit_score, behavior_score, lead, event",
			envExpiry:   "score, fit_score, behavior_score, lead",
		}[k]
		return msg + " (" + k.String() + " rules can use: " + vars + ")"
	}
	return msg
}

// Rule is a read-only description of one rule of a model, for display.
type Rule struct {
	Section string   `json:"section"` // fit, behavior, stages or expiry
	ID      string   `json:"id"`      // the stage name for stage rules
	When    string   `json:"when"`
	Points  float64  `json:"points,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Stage   string   `json:"stage,omitempty"` // expiry: the stage it watches
	After   string   `json:"after,omitempty"` // expiry: how long in the stage
	To      string   `json:"to,omitempty"`    // expiry: where the lead goes
	Reason  string   `json:"reason,omitempty"`
}

// Rules lists every rule of the model in file order, section by section.
func (m *Model) Rules() []Rule {
	var out []Rule
	for _, r := range m.fit {
		out = append(out, Rule{Section: "fit", ID: r.id, When: r.when, Points: r.points})
	}
	for _, r := range m.behavior {
		x := Rule{Section: "behavior", ID: r.id, When: r.when, Points: r.points}
		if r.hasMax {
			x.Max = &r.max
		}
		out = append(out, x)
	}
	for _, r := range m.stages {
		if r != nil {
			out = append(out, Rule{Section: "stages", ID: r.id, When: r.when})
		}
	}
	for _, r := range m.expiry {
		out = append(out, Rule{Section: "expiry", ID: r.id, When: r.when, Stage: string(r.stage),
			After: r.after.Text, To: string(r.to), Reason: r.reason})
	}
	return out
}

// Decay returns the model's decay.
func (m *Model) Decay() Decay { return m.decay }

// EventFields lists the event fields behavior and stage rules read, as dotted paths
// ("type", "name", "properties.path"), so storage can load only those. A
// rule that reads a whole map makes that map appear ("properties").
func (m *Model) EventFields() []string { return append([]string(nil), m.eventFields...) }

// Defines reports whether the model has a rule for stage s.
func (m *Model) Defines(s leadflow.Stage) bool {
	for i, rs := range ruleStages {
		if rs == s {
			return m.stages[i] != nil
		}
	}
	return false
}
