package yamlpos

import (
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// Unwrap looks through tags (`!!str x`) to the tagged node.
func Unwrap(n ast.Node) ast.Node {
	for range maxTags {
		t, ok := n.(*ast.TagNode)
		if !ok {
			return n
		}
		n = t.Value
	}
	return n
}

// KindOf names the kind of n for a message ("must be a list, not a
// mapping").
func KindOf(n ast.Node) string {
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
	case *ast.AnchorNode, *ast.AliasNode:
		return "an anchor or alias"
	}
	return "a value of another type"
}

// Field is one key: value of a YAML mapping.
type Field struct {
	KeyAt Pos
	Val   ast.Node
}

// Reader reads typed values from AST nodes, adding a located, readable
// problem to Problems when a node is not of the expected kind.
type Reader struct {
	Problems *Problems
	// MaxItems is the longest list Seq accepts.
	MaxItems int
	// Kind names a node's kind in messages; nil is KindOf.
	Kind func(ast.Node) string
}

func (r Reader) kind(n ast.Node) string {
	if r.Kind != nil {
		return r.Kind(n)
	}
	return KindOf(n)
}

// Mapping reads a mapping node, reporting unknown and duplicate keys.
func (r Reader) Mapping(n ast.Node, what string, allowed ...string) (map[string]Field, Pos, bool) {
	n = Unwrap(n)
	at := Of(n)
	mn, ok := n.(*ast.MappingNode)
	if !ok {
		r.Problems.Add(at, "%s must be a mapping, not %s", what, r.kind(n))
		return nil, at, false
	}
	fs := map[string]Field{}
	for _, mv := range mn.Values {
		if mv == nil || mv.Key == nil {
			continue
		}
		kn := Unwrap(mv.Key)
		kat := Of(kn)
		ks, isStr := kn.(*ast.StringNode)
		if !isStr {
			r.Problems.Add(kat, "keys of %s must be plain names, not %s", what, r.kind(kn))
			continue
		}
		k := ks.Value
		if !slices.Contains(allowed, k) {
			r.Problems.Add(kat, "unknown field %q in %s (expected one of: %s)", k, what, strings.Join(allowed, ", "))
			continue
		}
		if prev, dup := fs[k]; dup {
			r.Problems.Add(kat, "duplicate field %q (first at line %d)", k, prev.KeyAt.Line)
			continue
		}
		fs[k] = Field{KeyAt: kat, Val: mv.Value}
	}
	return fs, at, true
}

// Seq reads a list; an empty value counts as an empty list.
func (r Reader) Seq(f Field, what string) []ast.Node {
	switch n := Unwrap(f.Val).(type) {
	case *ast.SequenceNode:
		if len(n.Values) > r.MaxItems {
			r.Problems.Add(Of(n), "%s has %d entries; at most %d are allowed", what, len(n.Values), r.MaxItems)
			return nil
		}
		return n.Values
	case *ast.NullNode:
		return nil
	default:
		r.Problems.Add(Of(n), "%s must be a list, not %s", what, r.kind(n))
		return nil
	}
}

// Str reads a scalar as text; numbers and booleans keep their spelling.
func (r Reader) Str(f Field, what string) string {
	switch n := Unwrap(f.Val).(type) {
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
		r.Problems.Add(Of(n), "%s must be a string, not %s", what, r.kind(n))
		return ""
	}
}
