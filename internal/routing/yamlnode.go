package routing

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
)

// Typed readers over goccy/go-yaml AST nodes. Each reports a located,
// readable problem when the node is not of the expected kind.

// unwrap looks through tags (`!!str x`) to the tagged node.
func unwrap(n ast.Node) ast.Node {
	for range maxDepth {
		t, ok := n.(*ast.TagNode)
		if !ok {
			return n
		}
		n = t.Value
	}
	return n
}

func kindOf(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.NullNode, nil:
		return "empty"
	}
	return "a value of another type"
}

// mapping reads a mapping, reporting unknown and duplicate keys.
func (w *walker) mapping(n ast.Node, what string, allowed ...string) (map[string]field, pos, bool) {
	n = unwrap(n)
	at := nodePos(n)
	mn, ok := n.(*ast.MappingNode)
	if !ok {
		w.ps.add(at, "%s must be a mapping, not %s", what, kindOf(n))
		return nil, at, false
	}
	fs := map[string]field{}
	for _, mv := range mn.Values {
		if mv == nil || mv.Key == nil {
			continue
		}
		kn := unwrap(mv.Key)
		kat := nodePos(kn)
		ks, isStr := kn.(*ast.StringNode)
		if !isStr {
			w.ps.add(kat, "keys of %s must be plain names, not %s", what, kindOf(kn))
			continue
		}
		if !slices.Contains(allowed, ks.Value) {
			w.ps.add(kat, "unknown field %q in %s (expected one of: %s)", ks.Value, what, strings.Join(allowed, ", "))
			continue
		}
		if prev, dup := fs[ks.Value]; dup {
			w.ps.add(kat, "duplicate field %q (first at line %d)", ks.Value, prev.keyAt.line)
			continue
		}
		fs[ks.Value] = field{keyAt: kat, val: mv.Value}
	}
	return fs, at, true
}

// seq reads a list; an empty value counts as an empty list.
func (w *walker) seq(f field, what string) []ast.Node {
	switch n := unwrap(f.val).(type) {
	case *ast.SequenceNode:
		if len(n.Values) > maxRules {
			w.ps.add(nodePos(n), "%s has %d entries; at most %d are allowed", what, len(n.Values), maxRules)
			return nil
		}
		return n.Values
	case *ast.NullNode:
		return nil
	default:
		w.ps.add(nodePos(n), "%s must be a list, not %s", what, kindOf(n))
		return nil
	}
}

// str reads a scalar as text; numbers and booleans keep their spelling.
func (w *walker) str(f field, what string) string {
	switch n := unwrap(f.val).(type) {
	case *ast.StringNode:
		return n.Value
	case *ast.LiteralNode:
		if n.Value != nil {
			return n.Value.Value
		}
		return ""
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return n.GetToken().Value
	default:
		w.ps.add(nodePos(n), "%s must be a string, not %s", what, kindOf(n))
		return ""
	}
}

// name reads an id, user, team or queue name: non-empty, no spaces or
// control characters.
func (w *walker) name(f field, what string) string {
	s := w.str(f, what)
	at := nodePos(unwrap(f.val))
	switch {
	case s == "":
		w.ps.add(at, "%s must not be empty", what)
	case utf8.RuneCountInString(s) > maxNameLen:
		w.ps.add(at, "%s is longer than %d characters", what, maxNameLen)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		w.ps.add(at, "%s %q must not contain spaces or control characters", what, s)
	}
	return s
}

// expr reads a CEL expression, keeping its node for error positions.
func (w *walker) expr(f field, what string) rawExpr {
	n := unwrap(f.val)
	s := w.str(field{f.keyAt, n}, what)
	if strings.TrimSpace(s) == "" {
		if _, isNull := n.(*ast.NullNode); !isNull {
			w.ps.add(nodePos(n), "%s must not be empty", what)
		} else {
			w.ps.add(f.keyAt, "%s must not be empty", what)
		}
	}
	return rawExpr{text: s, node: n}
}
