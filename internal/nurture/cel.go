package nurture

import (
	"fmt"
	"reflect"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/leadcel"
)

// This file is the typed CEL environment of nurture conditions (enrolment
// `when`, branch `if`), built on internal/leadcel as internal/routing
// builds its own: `lead` has the same fields as in routing, `score` is the
// lead's score and `last_email` says what the lead did with the sequence's
// latest email.

// mailTypeName is the CEL object type of `last_email`, as it appears in
// CEL type errors.
const mailTypeName = "leadflow.LastEmail"

// mailView is `last_email`: the sequence's latest email to the lead (all
// false before the first one).
type mailView struct {
	sent, opened, clicked bool
}

func mailField(name string, get func(*mailView) bool) leadcel.Field {
	return leadcel.ObjectField(name, types.BoolType, func(m *mailView) any { return get(m) })
}

var mailType = leadcel.Type{Name: mailTypeName, Fields: []leadcel.Field{
	mailField("sent", func(m *mailView) bool { return m.sent }),
	mailField("opened", func(m *mailView) bool { return m.opened }),
	mailField("clicked", func(m *mailView) bool { return m.clicked }),
}}

// newEnv builds the environment of nurture conditions.
func newEnv() (*cel.Env, error) {
	return leadcel.NewEnv(leadcel.Config{
		LeadFields:      leadcel.ScoreOwnerTeam,
		Types:           []leadcel.Type{mailType},
		TraitsAlwaysSet: true,
		Variables: []cel.EnvOption{
			cel.Variable("score", cel.DoubleType),
			cel.Variable("last_email", cel.ObjectType(mailTypeName)),
		},
	})
}

// activation resolves the variables without a map per evaluation.
type activation struct {
	lead *leadcel.Lead
	mail *mailView
}

// ResolveName implements interpreter.Activation.
func (a activation) ResolveName(name string) (any, bool) {
	switch name {
	case "lead":
		return a.lead, true
	case "score":
		return a.lead.Source().Score, true
	case "last_email":
		return a.mail, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a activation) Parent() interpreter.Activation { return nil }

// mailView is a ref.Val itself so that the CEL runtime hands it to the
// field getters unchanged.

var mailObjType = types.NewObjectType(mailTypeName)

// ConvertToNative implements ref.Val.
func (v *mailView) ConvertToNative(reflect.Type) (any, error) { return nil, leadcel.ErrNoConversion }

// ConvertToType implements ref.Val.
func (v *mailView) ConvertToType(t ref.Type) ref.Val { return leadcel.Convert(v, mailObjType, t) }

// Equal implements ref.Val.
func (v *mailView) Equal(o ref.Val) ref.Val {
	m, ok := o.(*mailView)
	return types.Bool(ok && *m == *v)
}

// Type implements ref.Val.
func (v *mailView) Type() ref.Type { return mailObjType }

// Value implements ref.Val.
func (v *mailView) Value() any { return v }

// Condition is a compiled CEL condition of a sequence.
type Condition struct {
	Source string
	prg    cel.Program
}

// compileCondition type-checks a condition: it must be a bool over lead,
// score and last_email.
func compileCondition(env *cel.Env, src string) (*Condition, error) {
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType {
		return nil, fmt.Errorf("the condition is a %s, not a bool", ast.OutputType())
	}
	prg, err := env.Program(ast, cel.CostLimit(leadcel.CostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, err
	}
	return &Condition{Source: src, prg: prg}, nil
}

// Facts are what a condition is evaluated on.
type Facts struct {
	Lead *leadflow.Lead
	// LastEmail: the sequence's latest email to the lead.
	Sent, Opened, Clicked bool
	Now                   time.Time
}

// Holds evaluates the condition; nil always holds.
func (c *Condition) Holds(f Facts) bool {
	if c == nil {
		return true
	}
	return leadcel.Eval(c.prg, activation{lead: leadcel.NewLead(f.Lead, f.Now), mail: &mailView{sent: f.Sent, opened: f.Opened, clicked: f.Clicked}})
}
