package scoring

import (
	"bytes"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/yamlpos"
)

// MaxModelSize is the largest model file Compile accepts, in bytes; a model
// is a hand-written file of a few kilobytes.
const MaxModelSize = 1 << 20

// Input limits that keep a hostile file from exhausting the parser.
const (
	maxDepth  = 64 // YAML nesting (flow brackets, indentation levels)
	maxPoints = 10_000
	maxCap    = 100_000
	maxIDLen  = 100
	maxRules  = 1000 // per section
)

// rawExpr is a CEL expression with the YAML node it came from.
type rawExpr struct {
	text string
	node ast.Node
}

type rawRule struct {
	id     string
	when   rawExpr
	points float64
	max    float64
	hasMax bool
}

type rawExpiry struct {
	id     string
	stage  leadflow.Stage
	after  Duration
	when   rawExpr
	to     leadflow.Stage
	reason string
}

type rawModel struct {
	name, description string
	fit, behavior     []rawRule
	decay             Decay
	stages            map[leadflow.Stage]rawExpr
	expiry            []rawExpiry
}

// walker reads the YAML AST into a rawModel, reporting every problem.
type walker struct {
	yamlpos.Reader
	ps *yamlpos.Problems
}

// checkShape refuses input that is too large, not UTF-8, or nested deeper
// than any model needs, before the (recursive) YAML parser sees it.
func checkShape(src []byte, ps *yamlpos.Problems) bool {
	if len(src) > MaxModelSize {
		ps.Add(yamlpos.At(1, 1), "model is larger than %d bytes", MaxModelSize)
		return false
	}
	if !utf8.Valid(src) {
		line := bytes.Count(src[:firstInvalidUTF8(src)], []byte("\n")) + 1
		ps.Add(yamlpos.At(line, 1), "model is not valid UTF-8")
		return false
	}
	depth := 0
	for i, line := range bytes.Split(src, []byte("\n")) {
		indent := len(line) - len(bytes.TrimLeft(line, " \t-?"))
		if indent > 4*maxDepth {
			ps.Add(yamlpos.At(i+1, 1), "model is nested too deeply")
			return false
		}
		quote := byte(0)
		for j, c := range line {
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '#' && (j == 0 || line[j-1] == ' '):
				goto next
			case c == '[' || c == '{':
				depth++
				if depth > maxDepth {
					ps.Add(yamlpos.At(i+1, j+1), "model is nested too deeply")
					return false
				}
			case c == ']' || c == '}':
				depth = max(depth-1, 0)
			}
		}
	next:
	}
	return true
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// parseModel reads src into a rawModel; problems go to ps.
func parseModel(src []byte, ps *yamlpos.Problems) *rawModel {
	if !checkShape(src, ps) {
		return nil
	}
	body := yamlpos.Document(src, ps, "a model file", "model is empty")
	if body == nil {
		return nil
	}
	w := &walker{Reader: yamlpos.Reader{Problems: ps, MaxItems: maxRules}, ps: ps}
	return w.model(body)
}

func (w *walker) model(n ast.Node) *rawModel {
	m := &rawModel{stages: map[leadflow.Stage]rawExpr{}}
	fs, at, ok := w.Mapping(n, "the model", "name", "description", "fit", "behavior", "decay", "stages", "expiry")
	if !ok {
		return nil
	}
	if f, ok := fs["name"]; ok {
		m.name = w.Str(f, "name")
		if strings.TrimSpace(m.name) == "" {
			w.ps.Add(yamlpos.Of(f.Val), "name must not be empty")
		}
	} else {
		w.ps.Add(at, "missing field \"name\"")
	}
	if f, ok := fs["description"]; ok {
		m.description = w.Str(f, "description")
	}
	ids := map[string]yamlpos.Pos{}
	if f, ok := fs["fit"]; ok {
		for _, item := range w.Seq(f, "fit") {
			m.fit = append(m.fit, w.rule(item, "fit rule", false, ids))
		}
	}
	if f, ok := fs["behavior"]; ok {
		for _, item := range w.Seq(f, "behavior") {
			m.behavior = append(m.behavior, w.rule(item, "behavior rule", true, ids))
		}
	}
	if f, ok := fs["decay"]; ok {
		m.decay = w.decay(f)
	}
	if f, ok := fs["stages"]; ok {
		w.stages(f, m.stages)
	} else {
		w.ps.Add(at, "missing field \"stages\" (at least stages.mql)")
	}
	if f, ok := fs["expiry"]; ok {
		for _, item := range w.Seq(f, "expiry") {
			m.expiry = append(m.expiry, w.expiry(item, ids))
		}
	}
	return m
}

// rule reads a fit or behavior rule. Problems go to w.ps; the rule is
// returned anyway so that its condition is still checked.
func (w *walker) rule(n ast.Node, what string, behavior bool, ids map[string]yamlpos.Pos) rawRule {
	keys := []string{"id", "when", "points"}
	if behavior {
		keys = append(keys, "max")
	}
	fs, at, ok := w.Mapping(n, "a "+what, keys...)
	if !ok {
		return rawRule{}
	}
	var r rawRule
	r.id = w.id(fs, at, what, ids)
	if f, has := fs["when"]; has {
		r.when = w.expr(f, "when")
	} else {
		w.ps.Add(at, "%s %q: missing field \"when\"", what, r.id)
	}
	if f, has := fs["points"]; has {
		p, good := w.number(f, "points")
		if good && math.Abs(p) > maxPoints {
			w.ps.Add(yamlpos.Of(f.Val), "points %v is out of range (-%d to %d)", p, maxPoints, maxPoints)
		}
		r.points = p
	} else {
		w.ps.Add(at, "%s %q: missing field \"points\"", what, r.id)
	}
	if f, has := fs["max"]; has {
		c, good := w.number(f, "max")
		switch {
		case !good:
		case c < 0:
			w.ps.Add(yamlpos.Of(f.Val), "max must not be negative")
		case c > maxCap:
			w.ps.Add(yamlpos.Of(f.Val), "max %v is out of range (0 to %d)", c, maxCap)
		}
		r.max, r.hasMax = c, true
	}
	return r
}

// id reads and checks a rule id; ids holds the ids seen so far.
func (w *walker) id(fs map[string]yamlpos.Field, at yamlpos.Pos, what string, ids map[string]yamlpos.Pos) string {
	f, has := fs["id"]
	if !has {
		w.ps.Add(at, "%s: missing field \"id\"", what)
		return ""
	}
	id := w.Str(f, "id")
	idAt := yamlpos.Of(f.Val)
	switch {
	case id == "":
		w.ps.Add(idAt, "id must not be empty")
	case utf8.RuneCountInString(id) > maxIDLen:
		w.ps.Add(idAt, "id is longer than %d characters", maxIDLen)
	case strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		w.ps.Add(idAt, "id %q must not contain spaces or control characters", id)
	default:
		if prev, dup := ids[id]; dup {
			w.ps.Add(idAt, "duplicate rule id %q (first used at line %d)", id, prev.Line)
		} else {
			ids[id] = idAt
		}
	}
	return id
}

func (w *walker) decay(f yamlpos.Field) Decay {
	n := yamlpos.Unwrap(f.Val)
	switch n := n.(type) {
	case *ast.NullNode:
		return Decay{}
	case *ast.SequenceNode:
		var d Decay
		var prev Duration
		for i, item := range n.Values {
			fs, at, ok := w.Mapping(item, "a decay step", "older_than", "factor")
			if !ok {
				continue
			}
			var s DecayStep
			good := true
			if f, has := fs["older_than"]; has {
				s.OlderThan, good = w.duration(f, "older_than")
				if good && i > 0 && s.OlderThan.D <= prev.D {
					w.ps.Add(yamlpos.Of(f.Val), "decay steps must be in increasing order of older_than (%s is not after %s)", s.OlderThan, prev)
					good = false
				}
				if good {
					prev = s.OlderThan
				}
			} else {
				w.ps.Add(at, "decay step: missing field \"older_than\"")
				good = false
			}
			if f, has := fs["factor"]; has {
				x, ok := w.number(f, "factor")
				if ok && (x < 0 || x > 1) {
					w.ps.Add(yamlpos.Of(f.Val), "factor %v must be between 0 and 1", x)
					ok = false
				}
				s.Factor, good = x, good && ok
			} else {
				w.ps.Add(at, "decay step: missing field \"factor\"")
				good = false
			}
			if good {
				d.Steps = append(d.Steps, s)
			}
		}
		return d
	case *ast.MappingNode:
		fs, at, ok := w.Mapping(n, "decay", "half_life")
		if !ok {
			return Decay{}
		}
		f, has := fs["half_life"]
		if !has {
			w.ps.Add(at, "decay: missing field \"half_life\"")
			return Decay{}
		}
		hl, _ := w.duration(f, "half_life")
		return Decay{HalfLife: hl}
	}
	w.ps.Add(yamlpos.Of(f.Val), "decay must be a list of steps (older_than, factor) or {half_life: …}, not %s", yamlpos.KindOf(n))
	return Decay{}
}

func (w *walker) stages(f yamlpos.Field, out map[leadflow.Stage]rawExpr) {
	fs, at, ok := w.Mapping(f.Val, "stages", "mql", "sal", "sql", "hql")
	if !ok {
		return
	}
	for k, f := range fs {
		out[leadflow.Stage(k)] = w.expr(f, "stages."+k)
	}
	if _, ok := fs["mql"]; !ok {
		w.ps.Add(at, "stages: missing field \"mql\"")
	}
}

// expiry reads an expiry rule, like rule.
func (w *walker) expiry(n ast.Node, ids map[string]yamlpos.Pos) rawExpiry {
	fs, at, ok := w.Mapping(n, "an expiry rule", "id", "stage", "after", "when", "to", "reason")
	if !ok {
		return rawExpiry{}
	}
	var r rawExpiry
	r.id = w.id(fs, at, "expiry rule", ids)
	need := func(k string) (yamlpos.Field, bool) {
		f, has := fs[k]
		if !has {
			w.ps.Add(at, "expiry rule %q: missing field %q", r.id, k)
		}
		return f, has
	}
	if f, has := need("stage"); has {
		r.stage = leadflow.Stage(w.Str(f, "stage"))
		if !r.stage.Valid() {
			w.ps.Add(yamlpos.Of(f.Val), "unknown stage %q", r.stage)
		}
	}
	if f, has := need("after"); has {
		r.after, _ = w.duration(f, "after")
	}
	if f, has := need("when"); has {
		r.when = w.expr(f, "when")
	}
	if f, has := need("to"); has {
		r.to = leadflow.Stage(w.Str(f, "to"))
		switch {
		case r.to != leadflow.StageRecycled && r.to != leadflow.StageDisqualified:
			w.ps.Add(yamlpos.Of(f.Val), "expiry can only move a lead to recycled or disqualified, not %q", r.to)
		case r.to == r.stage:
			w.ps.Add(yamlpos.Of(f.Val), "expiry rule moves %s to itself", r.to)
		}
	}
	if f, has := fs["reason"]; has {
		r.reason = w.Str(f, "reason")
	}
	return r
}
