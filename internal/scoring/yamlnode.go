package scoring

import (
	"math"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/leadflow/leadflow/internal/yamlpos"
)

// Scoring-specific readers over goccy/go-yaml AST nodes, next to the
// shared ones of yamlpos.Reader. Each reports a located, readable problem
// when the node is not of the expected kind.

// expr reads a CEL expression, keeping its node for error positions.
func (w *walker) expr(f yamlpos.Field, what string) rawExpr {
	n := yamlpos.Unwrap(f.Val)
	s := w.Str(yamlpos.Field{KeyAt: f.KeyAt, Val: n}, what)
	if strings.TrimSpace(s) == "" {
		if _, isNull := n.(*ast.NullNode); !isNull {
			w.ps.Add(yamlpos.Of(n), "%s must not be empty", what)
		}
		return rawExpr{node: n}
	}
	return rawExpr{text: s, node: n}
}

func (w *walker) number(f yamlpos.Field, what string) (float64, bool) {
	switch n := yamlpos.Unwrap(f.Val).(type) {
	case *ast.IntegerNode:
		switch v := n.Value.(type) {
		case int64:
			return float64(v), true
		case uint64:
			return float64(v), true
		}
	case *ast.FloatNode:
		if !math.IsInf(n.Value, 0) && !math.IsNaN(n.Value) {
			return n.Value, true
		}
	case *ast.InfinityNode, *ast.NanNode:
		w.ps.Add(yamlpos.Of(n), "%s must be a finite number", what)
		return 0, false
	}
	n := yamlpos.Unwrap(f.Val)
	w.ps.Add(yamlpos.Of(n), "%s must be a number, not %s", what, yamlpos.KindOf(n))
	return 0, false
}

func (w *walker) duration(f yamlpos.Field, what string) (Duration, bool) {
	n := yamlpos.Unwrap(f.Val)
	switch n.(type) {
	case *ast.StringNode:
	case *ast.IntegerNode, *ast.FloatNode:
		w.ps.Add(yamlpos.Of(n), "%s needs a unit: m, h, d or w (e.g. 90d)", what)
		return Duration{}, false
	default:
		w.ps.Add(yamlpos.Of(n), "%s must be a duration such as 90d, not %s", what, yamlpos.KindOf(n))
		return Duration{}, false
	}
	d, err := ParseDuration(w.Str(yamlpos.Field{KeyAt: f.KeyAt, Val: n}, what))
	if err != nil {
		w.ps.Add(yamlpos.Of(n), "%s: %v", what, err)
		return Duration{}, false
	}
	return d, true
}
