package routing

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/google/cel-go/cel"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/yamlpos"
)

// Input limits: a rules file is a hand-written page, not a data set.
const (
	MaxSize    = 1 << 20 // bytes
	maxRules   = 1000
	maxNameLen = 100
	maxDepth   = 64
)

// Parse reads and checks a rules document. Every problem found is reported
// in one *leadflow.Error (EINVALID, "routing rules are invalid") whose
// Details locate each problem as "filename:line:column". Parse never
// panics, whatever src holds.
func Parse(filename string, src []byte) (*Rules, error) {
	if filename == "" {
		filename = "routing.yaml"
	}
	ps := &yamlpos.Problems{File: filename}
	raw := parseFile(src, ps)
	if raw == nil {
		return nil, ps.Err("routing rules are invalid")
	}
	env, err := newEnv()
	if err != nil {
		return nil, leadflow.Internal(err, "building the CEL environment")
	}
	rs := &Rules{Source: append([]byte(nil), src...), Fallback: raw.fallback}
	for _, r := range raw.rules {
		prg := compile(env, src, r.when, "rule "+r.ID, ps)
		if prg != nil {
			r.prg = prg
			rs.rules = append(rs.rules, r.Rule)
		}
	}
	if !ps.Empty() {
		return nil, ps.Err("routing rules are invalid")
	}
	return rs, nil
}

// Default returns the rules in force when none were set.
func Default() *Rules {
	r, err := Parse("default", DefaultSource)
	if err != nil {
		panic(err) // DefaultSource is a constant checked by the tests
	}
	return r
}

type rawRule struct {
	*Rule
	when rawExpr
}

type rawFile struct {
	rules    []rawRule
	fallback string
}

type rawExpr struct {
	text string
	node ast.Node
}

// checkShape refuses input the recursive YAML parser should not see.
func checkShape(src []byte, ps *yamlpos.Problems) bool {
	if len(src) > MaxSize {
		ps.Add(yamlpos.At(1, 1), "rules are larger than %d bytes", MaxSize)
		return false
	}
	if !utf8.Valid(src) {
		ps.Add(yamlpos.At(1, 1), "rules are not valid UTF-8")
		return false
	}
	depth := 0
	for i, line := range bytes.Split(src, []byte("\n")) {
		if len(line)-len(bytes.TrimLeft(line, " \t-?")) > 4*maxDepth {
			ps.Add(yamlpos.At(i+1, 1), "rules are nested too deeply")
			return false
		}
		for j, c := range line {
			switch c {
			case '[', '{':
				if depth++; depth > maxDepth {
					ps.Add(yamlpos.At(i+1, j+1), "rules are nested too deeply")
					return false
				}
			case ']', '}':
				depth = max(depth-1, 0)
			}
		}
	}
	return true
}

func parseFile(src []byte, ps *yamlpos.Problems) *rawFile {
	if !checkShape(src, ps) {
		return nil
	}
	body := yamlpos.Document(src, ps, "a rules file", "rules are empty (write `rules: []` to send every lead to the fallback queue)")
	if body == nil {
		return nil
	}
	w := &walker{Reader: yamlpos.Reader{Problems: ps, MaxItems: maxRules, Kind: kindOf}, ps: ps}
	return w.file(body)
}

// walker reads the YAML AST, reporting every problem with its position.
type walker struct {
	yamlpos.Reader
	ps *yamlpos.Problems
}

func (w *walker) file(n ast.Node) *rawFile {
	fs, _, ok := w.Mapping(n, "the rules file", "rules", "fallback")
	if !ok {
		return nil
	}
	out := &rawFile{fallback: DefaultQueue}
	ids := map[string]yamlpos.Pos{}
	if f, has := fs["rules"]; has {
		for _, item := range w.Seq(f, "rules") {
			if r, ok := w.rule(item, ids); ok {
				out.rules = append(out.rules, r)
			}
		}
	}
	if f, has := fs["fallback"]; has {
		ffs, at, ok := w.Mapping(f.Val, "fallback", "queue")
		if ok {
			if q, has := ffs["queue"]; has {
				out.fallback = w.name(q, "fallback.queue")
			} else {
				w.ps.Add(at, "fallback: missing field \"queue\"")
			}
		}
	}
	return out
}

func (w *walker) rule(n ast.Node, ids map[string]yamlpos.Pos) (rawRule, bool) {
	fs, at, ok := w.Mapping(n, "a rule", "id", "when", "assign")
	if !ok {
		return rawRule{}, false
	}
	r := rawRule{Rule: &Rule{}}
	if f, has := fs["id"]; has {
		r.ID = w.name(f, "id")
		idAt := yamlpos.Of(yamlpos.Unwrap(f.Val))
		if r.ID == RuleFallback || r.ID == RuleManual {
			w.ps.Add(idAt, "rule id %q is reserved", r.ID)
		} else if prev, dup := ids[r.ID]; dup && r.ID != "" {
			w.ps.Add(idAt, "duplicate rule id %q (first used at line %d)", r.ID, prev.Line)
		} else {
			ids[r.ID] = idAt
		}
	} else {
		w.ps.Add(at, "a rule: missing field \"id\"")
	}
	if f, has := fs["when"]; has {
		r.when = w.expr(f, "when")
		r.When = strings.TrimSpace(r.when.text)
	} else {
		w.ps.Add(at, "rule %q: missing field \"when\" (write when: \"true\" to match every lead)", r.ID)
	}
	if f, has := fs["assign"]; has {
		w.assign(f, r.Rule)
	} else {
		w.ps.Add(at, "rule %q: missing field \"assign\" ({user: NAME} or {team: NAME, strategy: round_robin|least_loaded})", r.ID)
	}
	return r, true
}

func (w *walker) assign(f yamlpos.Field, r *Rule) {
	fs, at, ok := w.Mapping(f.Val, "assign", "user", "team", "strategy")
	if !ok {
		return
	}
	u, hasUser := fs["user"]
	t, hasTeam := fs["team"]
	s, hasStrategy := fs["strategy"]
	switch {
	case hasUser && hasTeam:
		w.ps.Add(t.KeyAt, "assign: give user or team, not both")
	case hasUser:
		r.User = w.name(u, "assign.user")
		if hasStrategy {
			w.ps.Add(s.KeyAt, "assign: strategy applies to a team, not to a user")
		}
	case hasTeam:
		r.Team = w.name(t, "assign.team")
		r.Strategy = RoundRobin
		if hasStrategy {
			v := Strategy(w.Str(s, "assign.strategy"))
			switch v {
			case RoundRobin, LeastLoaded:
				r.Strategy = v
			default:
				w.ps.Add(yamlpos.Of(yamlpos.Unwrap(s.Val)), "unknown strategy %q (expected round_robin or least_loaded)", v)
			}
		}
	default:
		w.ps.Add(at, "assign: give user or team")
	}
}

// compile checks one condition, locating CEL errors in the file.
func compile(env *cel.Env, src []byte, x rawExpr, what string, ps *yamlpos.Problems) cel.Program {
	if strings.TrimSpace(x.text) == "" {
		return nil // reported by the walker
	}
	a, iss := env.Compile(x.text)
	if iss != nil && iss.Err() != nil {
		for _, e := range iss.Errors() {
			msg := e.Message
			if strings.HasPrefix(msg, "undeclared reference to '") {
				msg += " (routing conditions can use: lead)"
			}
			ps.Add(yamlpos.InExpr(src, x.node, x.text, e.Location.Line(), e.Location.Column()), "%s: %s", what, msg)
		}
		return nil
	}
	if !a.OutputType().IsExactType(cel.BoolType) {
		ps.Add(yamlpos.InExpr(src, x.node, x.text, 1, 0), "%s: condition must be true or false, but it is %s", what, a.OutputType())
		return nil
	}
	prg, err := env.Program(a, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(celCostLimit))
	if err != nil {
		ps.Add(yamlpos.InExpr(src, x.node, x.text, 1, 0), "%s: %v", what, err)
		return nil
	}
	return prg
}
