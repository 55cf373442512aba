package routing

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/google/cel-go/cel"

	"github.com/leadflow/leadflow"
)

// Input limits: a rules file is a hand-written page, not a data set.
const (
	MaxSize     = 1 << 20 // bytes
	maxRules    = 1000
	maxNameLen  = 100
	maxProblems = 50
	maxDepth    = 64
)

// Parse reads and checks a rules document. Every problem found is reported
// in one *leadflow.Error (EINVALID, "routing rules are invalid") whose
// Details locate each problem as "filename:line:column". Parse never
// panics, whatever src holds.
func Parse(filename string, src []byte) (*Rules, error) {
	if filename == "" {
		filename = "routing.yaml"
	}
	ps := &problems{file: filename}
	raw := parseFile(src, ps)
	if raw == nil {
		return nil, ps.err()
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
	if !ps.empty() {
		return nil, ps.err()
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

// parseYAML turns a parser panic into an error: the file comes from users.
func parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
}

// checkShape refuses input the recursive YAML parser should not see.
func checkShape(src []byte, ps *problems) bool {
	if len(src) > MaxSize {
		ps.add(pos{1, 1}, "rules are larger than %d bytes", MaxSize)
		return false
	}
	if !utf8.Valid(src) {
		ps.add(pos{1, 1}, "rules are not valid UTF-8")
		return false
	}
	depth := 0
	for i, line := range bytes.Split(src, []byte("\n")) {
		if len(line)-len(bytes.TrimLeft(line, " \t-?")) > 4*maxDepth {
			ps.add(pos{i + 1, 1}, "rules are nested too deeply")
			return false
		}
		for j, c := range line {
			switch c {
			case '[', '{':
				if depth++; depth > maxDepth {
					ps.add(pos{i + 1, j + 1}, "rules are nested too deeply")
					return false
				}
			case ']', '}':
				depth = max(depth-1, 0)
			}
		}
	}
	return true
}

func parseFile(src []byte, ps *problems) *rawFile {
	if !checkShape(src, ps) {
		return nil
	}
	f, err := parseYAML(src)
	if err != nil {
		at, msg := pos{1, 1}, err.Error()
		var se *yaml.SyntaxError
		if errors.As(err, &se) {
			msg = se.Message
			if se.Token != nil && se.Token.Position != nil {
				at = pos{max(se.Token.Position.Line, 1), max(se.Token.Position.Column, 1)}
			}
		}
		ps.add(at, "YAML syntax error: %s", msg)
		return nil
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if body != nil {
			ps.add(nodePos(d.Body), "a rules file holds one YAML document")
			return nil
		}
		body = d.Body
	}
	if body == nil {
		ps.add(pos{1, 1}, "rules are empty (write `rules: []` to send every lead to the fallback queue)")
		return nil
	}
	w := &walker{ps: ps}
	return w.file(body)
}

// walker reads the YAML AST, reporting every problem with its position.
type walker struct{ ps *problems }

type field struct {
	keyAt pos
	val   ast.Node
}

func (w *walker) file(n ast.Node) *rawFile {
	fs, _, ok := w.mapping(n, "the rules file", "rules", "fallback")
	if !ok {
		return nil
	}
	out := &rawFile{fallback: DefaultQueue}
	ids := map[string]pos{}
	if f, has := fs["rules"]; has {
		for _, item := range w.seq(f, "rules") {
			if r, ok := w.rule(item, ids); ok {
				out.rules = append(out.rules, r)
			}
		}
	}
	if f, has := fs["fallback"]; has {
		ffs, at, ok := w.mapping(f.val, "fallback", "queue")
		if ok {
			if q, has := ffs["queue"]; has {
				out.fallback = w.name(q, "fallback.queue")
			} else {
				w.ps.add(at, "fallback: missing field \"queue\"")
			}
		}
	}
	return out
}

func (w *walker) rule(n ast.Node, ids map[string]pos) (rawRule, bool) {
	fs, at, ok := w.mapping(n, "a rule", "id", "when", "assign")
	if !ok {
		return rawRule{}, false
	}
	r := rawRule{Rule: &Rule{}}
	if f, has := fs["id"]; has {
		r.ID = w.name(f, "id")
		idAt := nodePos(unwrap(f.val))
		if r.ID == RuleFallback || r.ID == RuleManual {
			w.ps.add(idAt, "rule id %q is reserved", r.ID)
		} else if prev, dup := ids[r.ID]; dup && r.ID != "" {
			w.ps.add(idAt, "duplicate rule id %q (first used at line %d)", r.ID, prev.line)
		} else {
			ids[r.ID] = idAt
		}
	} else {
		w.ps.add(at, "a rule: missing field \"id\"")
	}
	if f, has := fs["when"]; has {
		r.when = w.expr(f, "when")
		r.When = strings.TrimSpace(r.when.text)
	} else {
		w.ps.add(at, "rule %q: missing field \"when\" (write when: \"true\" to match every lead)", r.ID)
	}
	if f, has := fs["assign"]; has {
		w.assign(f, r.Rule)
	} else {
		w.ps.add(at, "rule %q: missing field \"assign\" ({user: NAME} or {team: NAME, strategy: round_robin|least_loaded})", r.ID)
	}
	return r, true
}

func (w *walker) assign(f field, r *Rule) {
	fs, at, ok := w.mapping(f.val, "assign", "user", "team", "strategy")
	if !ok {
		return
	}
	u, hasUser := fs["user"]
	t, hasTeam := fs["team"]
	s, hasStrategy := fs["strategy"]
	switch {
	case hasUser && hasTeam:
		w.ps.add(t.keyAt, "assign: give user or team, not both")
	case hasUser:
		r.User = w.name(u, "assign.user")
		if hasStrategy {
			w.ps.add(s.keyAt, "assign: strategy applies to a team, not to a user")
		}
	case hasTeam:
		r.Team = w.name(t, "assign.team")
		r.Strategy = RoundRobin
		if hasStrategy {
			v := Strategy(w.str(s, "assign.strategy"))
			switch v {
			case RoundRobin, LeastLoaded:
				r.Strategy = v
			default:
				w.ps.add(nodePos(unwrap(s.val)), "unknown strategy %q (expected round_robin or least_loaded)", v)
			}
		}
	default:
		w.ps.add(at, "assign: give user or team")
	}
}

// compile checks one condition, locating CEL errors in the file.
func compile(env *cel.Env, src []byte, x rawExpr, what string, ps *problems) cel.Program {
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
			ps.add(exprPos(src, x.node, x.text, e.Location.Line(), e.Location.Column()), "%s: %s", what, msg)
		}
		return nil
	}
	if !a.OutputType().IsExactType(cel.BoolType) {
		ps.add(exprPos(src, x.node, x.text, 1, 0), "%s: condition must be true or false, but it is %s", what, a.OutputType())
		return nil
	}
	prg, err := env.Program(a, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(celCostLimit))
	if err != nil {
		ps.add(exprPos(src, x.node, x.text, 1, 0), "%s: %v", what, err)
		return nil
	}
	return prg
}

// exprPos maps a CEL error location (1-based line, 0-based column in the
// expression) to the file, as the scoring model does: the expression is
// laid out as the rest of the value's first line, then continuation lines
// without their indentation (block scalars start on the next line).
func exprPos(src []byte, n ast.Node, text string, line, col int) pos {
	start := nodePos(n)
	off := 0
	for i, l := range strings.Split(text, "\n") {
		if i+1 >= line {
			break
		}
		off += utf8.RuneCountInString(l) + 1
	}
	off += max(col, 0)

	lines := strings.Split(string(src), "\n")
	first, firstCol, blockIndent := start.line-1, start.col-1, -1
	if lit, ok := n.(*ast.LiteralNode); ok && lit.Start != nil && lit.Start.Position != nil {
		first, firstCol = lit.Start.Position.Line, -1
		for i := first; i >= 0 && i < len(lines); i++ {
			if t := strings.TrimLeft(lines[i], " "); strings.TrimSpace(t) != "" {
				blockIndent = len(lines[i]) - len(t)
				break
			}
		}
	} else if tk := n.GetToken(); tk != nil && (tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType) {
		firstCol++
	}
	for i := first; i >= 0 && i < len(lines); i++ {
		l := []rune(strings.TrimRight(lines[i], " \t\r"))
		var segStart int
		switch {
		case i == first && firstCol >= 0:
			segStart = min(firstCol, len(l))
		case blockIndent >= 0:
			segStart = min(blockIndent, len(l))
		default:
			segStart = len(l) - len([]rune(strings.TrimLeft(string(l), " \t")))
		}
		seg := len(l) - segStart
		if off <= seg || i == len(lines)-1 {
			return pos{i + 1, segStart + min(off, seg) + 1}
		}
		off -= seg + 1
	}
	return start
}
