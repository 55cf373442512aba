// Package yamlpos reports problems of a user-written YAML file (the
// scoring model, the routing rules) at their line and column: node
// positions, typed readers over goccy/go-yaml AST nodes that name what
// they expected, and the problems of one file collected into a
// *leadflow.Error whose details say "file:line:col".
package yamlpos

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/leadflow/leadflow"
)

// MaxProblems bounds the details of one error so that a megabyte of junk
// cannot produce a megabyte of messages.
const MaxProblems = 50

// maxTags bounds how many tags Unwrap looks through.
const maxTags = 64

// Pos is a 1-based line:column in a file.
type Pos struct{ Line, Col int }

// At returns the position line:col.
func At(line, col int) Pos { return Pos{line, col} }

// Of returns the position of n (1:1 when it has none).
func Of(n ast.Node) Pos {
	if n == nil {
		return Pos{1, 1}
	}
	if mn, ok := n.(*ast.MappingNode); ok && !mn.IsFlowStyle && len(mn.Values) > 0 && mn.Values[0] != nil && mn.Values[0].Key != nil {
		n = mn.Values[0].Key // a block mapping's own token is its first ':'
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{1, 1}
	}
	return Pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

// Document parses src and returns the body of its one document, or nil
// after adding the problem: a syntax error, more than one document (file
// names the file, as in "a model file"), or none (empty is the message).
// A parser panic is an error too: the file comes from users and must never
// take the process down.
func Document(src []byte, ps *Problems, file, empty string) ast.Node {
	f, err := parse(src)
	if err != nil {
		at, msg := syntaxError(err)
		ps.Add(at, "YAML syntax error: %s", msg)
		return nil
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if body != nil {
			ps.Add(Of(d.Body), "%s holds one YAML document", file)
			return nil
		}
		body = d.Body
	}
	if body == nil {
		ps.Add(Pos{1, 1}, "%s", empty)
		return nil
	}
	return body
}

func parse(src []byte) (f *ast.File, err error) {
	return ParseFile(src, parser.AllowDuplicateMapKey())
}

// ParseFile parses src with the parser options, turning a parser panic
// into an error: files come from users and must never take the process
// down.
func ParseFile(src []byte, opts ...parser.Option) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(src, 0, opts...)
}

// yamlError is what goccy/go-yaml's syntax, type and unknown-field errors
// have in common.
type yamlError interface {
	GetToken() *token.Token
	GetMessage() string
}

// ErrorOf returns where a goccy/go-yaml error (syntax, type, unknown
// field) is and its message without the position and source excerpt;
// 1:1 and the error's text for any other error.
func ErrorOf(err error) (Pos, string) {
	var ye yamlError
	if errors.As(err, &ye) {
		at := Pos{1, 1}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			at = Pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
		}
		return at, ye.GetMessage()
	}
	return Pos{1, 1}, err.Error()
}

// PathPos returns the position of the node at a dotted path such as
// "policies[1].within"; when the node is missing it falls back to its
// nearest parent, so a missing field points at the mapping that lacks it.
func PathPos(f *ast.File, path string) Pos {
	for path != "" {
		if yp, err := yaml.PathString("$." + path); err == nil {
			if n, err := yp.FilterFile(f); err == nil && n != nil {
				return Of(n)
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return Pos{1, 1}
}

// syntaxError returns where a YAML parser error is and its message.
func syntaxError(err error) (Pos, string) {
	at, msg := Pos{1, 1}, err.Error()
	var se *yaml.SyntaxError
	if errors.As(err, &se) {
		msg = se.Message
		if se.Token != nil && se.Token.Position != nil {
			at = Pos{max(se.Token.Position.Line, 1), max(se.Token.Position.Column, 1)}
		}
	}
	return at, msg
}

// InExpr maps a CEL error location (1-based line, 0-based column in the
// expression) to the file. The expression's text is laid out in the file
// as segments: the rest of the value's first line, then continuation lines
// without their indentation (block scalars start on the next line). Each
// segment boundary is one character (a newline or a folded space) in the
// expression. Escapes inside quoted strings may shift the column slightly.
func InExpr(src []byte, n ast.Node, text string, line, col int) Pos {
	start := Of(n)
	off := 0
	for i, l := range strings.Split(text, "\n") {
		if i+1 >= line {
			break
		}
		off += utf8.RuneCountInString(l) + 1
	}
	off += max(col, 0)

	lines := strings.Split(string(src), "\n")
	first := start.Line - 1
	firstCol := start.Col - 1 // 0-based, in runes
	blockIndent := -1         // block scalars keep indentation beyond the block's
	if lit, ok := n.(*ast.LiteralNode); ok && lit.Start != nil && lit.Start.Position != nil {
		first, firstCol = lit.Start.Position.Line, -1 // content starts on the next line
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
			return Pos{i + 1, segStart + min(off, seg) + 1}
		}
		off -= seg + 1
	}
	return start
}

type problem struct {
	at  Pos
	msg string
}

// Problems collects every located problem of one file.
type Problems struct {
	File string
	list []problem
}

// Add records a problem at at.
func (p *Problems) Add(at Pos, format string, args ...any) {
	p.list = append(p.list, problem{at, fmt.Sprintf(format, args...)})
}

// Empty reports whether no problem was recorded.
func (p *Problems) Empty() bool { return len(p.list) == 0 }

// Err returns the problems as one EINVALID error with message, sorted by
// position and without repeats, or nil when there are none. Details past
// MaxProblems are counted, not shown.
func (p *Problems) Err(message string) error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b problem) int {
		if a.at.Line != b.at.Line {
			return a.at.Line - b.at.Line
		}
		return a.at.Col - b.at.Col
	})
	list := slices.Compact(p.list)
	e := &leadflow.Error{Code: leadflow.EINVALID, Message: message}
	for i, pr := range list {
		where := fmt.Sprintf("%s:%d:%d", p.File, pr.at.Line, pr.at.Col)
		if i == MaxProblems {
			e.Details = append(e.Details, leadflow.Detail{Where: where,
				Message: fmt.Sprintf("%d more problems not shown", len(list)-MaxProblems)})
			break
		}
		e.Details = append(e.Details, leadflow.Detail{Where: where, Message: pr.msg})
	}
	return e
}
