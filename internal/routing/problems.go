package routing

import (
	"fmt"
	"slices"

	"github.com/goccy/go-yaml/ast"

	"github.com/leadflow/leadflow"
)

// pos is a 1-based line:column in the file.
type pos struct{ line, col int }

type problem struct {
	at  pos
	msg string
}

// problems collects every located problem of one file.
type problems struct {
	file string
	list []problem
}

func (p *problems) add(at pos, format string, args ...any) {
	p.list = append(p.list, problem{at, fmt.Sprintf(format, args...)})
}

func (p *problems) empty() bool { return len(p.list) == 0 }

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b problem) int {
		if a.at.line != b.at.line {
			return a.at.line - b.at.line
		}
		return a.at.col - b.at.col
	})
	list := slices.Compact(p.list)
	e := &leadflow.Error{Code: leadflow.EINVALID, Message: "routing rules are invalid"}
	for i, pr := range list {
		where := fmt.Sprintf("%s:%d:%d", p.file, pr.at.line, pr.at.col)
		if i == maxProblems {
			e.Details = append(e.Details, leadflow.Detail{Where: where,
				Message: fmt.Sprintf("%d more problems not shown", len(list)-maxProblems)})
			break
		}
		e.Details = append(e.Details, leadflow.Detail{Where: where, Message: pr.msg})
	}
	return e
}

func nodePos(n ast.Node) pos {
	if n == nil {
		return pos{1, 1}
	}
	if mn, ok := n.(*ast.MappingNode); ok && !mn.IsFlowStyle && len(mn.Values) > 0 && mn.Values[0] != nil && mn.Values[0].Key != nil {
		n = mn.Values[0].Key // a block mapping's own token is its first ':'
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}
