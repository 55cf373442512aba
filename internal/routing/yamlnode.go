package routing

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"

	"github.com/leadflow/leadflow/internal/yamlpos"
)

// kindOf is yamlpos.KindOf, except that an anchor or alias is "a value
// of another type", as routing has always reported it.
func kindOf(n ast.Node) string {
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode:
		return "a value of another type"
	}
	return yamlpos.KindOf(n)
}

// name reads an id, user, team or queue name: non-empty, no spaces or
// control characters.
func (w *walker) name(f yamlpos.Field, what string) string {
	s := w.Str(f, what)
	at := yamlpos.Of(yamlpos.Unwrap(f.Val))
	switch {
	case s == "":
		w.ps.Add(at, "%s must not be empty", what)
	case utf8.RuneCountInString(s) > maxNameLen:
		w.ps.Add(at, "%s is longer than %d characters", what, maxNameLen)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		w.ps.Add(at, "%s %q must not contain spaces or control characters", what, s)
	}
	return s
}

// expr reads a CEL expression, keeping its node for error positions.
func (w *walker) expr(f yamlpos.Field, what string) rawExpr {
	n := yamlpos.Unwrap(f.Val)
	s := w.Str(yamlpos.Field{KeyAt: f.KeyAt, Val: n}, what)
	if strings.TrimSpace(s) == "" {
		if _, isNull := n.(*ast.NullNode); !isNull {
			w.ps.Add(yamlpos.Of(n), "%s must not be empty", what)
		} else {
			w.ps.Add(f.KeyAt, "%s must not be empty", what)
		}
	}
	return rawExpr{text: s, node: n}
}
