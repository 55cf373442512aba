package nurture

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"

	"github.com/leadflow/leadflow"
)

// CEL object type names, as they appear in CEL type errors. They are the
// names the scoring model uses, so an author sees the same words in both
// files.
const (
	leadTypeName = "leadflow.Lead"
	bantTypeName = "leadflow.BANT"
	mailTypeName = "leadflow.LastEmail"
)

// unknownTimelineDays is lead.bant.timeline_days when no timeline is known
// (as in the scoring model), so that `timeline_days <= 30` is false.
const unknownTimelineDays = math.MaxInt32

// Limits that keep a pathological condition from hanging routing.
const (
	celCostLimit      = 100_000
	celMaxExprLen     = 4096
	celRecursionLimit = 32
)

// This file is the typed CEL environment of nurture conditions (enrolment
// `when`, branch `if`), built as internal/routing builds its own: `lead`
// has the same fields as in routing, `score` is the lead's score and
// `last_email` says what the lead did with the sequence's latest email.

// leadView is what conditions see as `lead`: the fields of the scoring
// model's lead, plus score, owner and team.
type leadView struct {
	email, name, company, title, industry string
	employees                             int64
	country, region, phone, stage         string
	source, medium, campaign              string
	unsubscribed, consent                 bool
	traits                                map[string]any
	bant                                  bantView
	score                                 float64
	owner, team                           string
}

type bantView struct {
	budget, authority, need bool
	timelineDays            int64
}

// mailView is `last_email`: the sequence's latest email to the lead (all
// false before the first one).
type mailView struct {
	sent, opened, clicked bool
}

func newLeadView(l *leadflow.Lead, now time.Time) *leadView {
	v := &leadView{bant: bantView{timelineDays: unknownTimelineDays}}
	if l == nil {
		return v
	}
	*v = leadView{
		email: l.Email, name: l.Name, company: l.Company, title: l.Title,
		industry: l.Industry, employees: int64(l.Employees),
		country: l.Country, region: l.Region, phone: l.Phone, stage: string(l.Stage),
		source: l.FirstTouch.Source, medium: l.FirstTouch.Medium, campaign: l.FirstTouch.Campaign,
		unsubscribed: l.Unsubscribed, consent: l.Consent, traits: l.Traits,
		bant: bantView{budget: l.BANT.Budget, authority: l.BANT.Authority, need: l.BANT.Need,
			timelineDays: unknownTimelineDays},
		score: l.Score, owner: l.Owner, team: l.Team,
	}
	if l.BANT.Timeline != nil {
		v.bant.timelineDays = int64(l.BANT.TimelineDays(now))
	}
	if v.traits == nil {
		v.traits = map[string]any{}
	}
	return v
}

// celField is one field of a CEL object type.
type celField struct {
	name string
	typ  *types.Type
	get  func(obj any) (any, bool)
}

func leadField(name string, typ *types.Type, get func(*leadView) any) celField {
	return celField{name, typ, func(o any) (any, bool) {
		l, ok := o.(*leadView)
		if !ok {
			return nil, false
		}
		return get(l), true
	}}
}

func mailField(name string, get func(*mailView) bool) celField {
	return celField{name, types.BoolType, func(o any) (any, bool) {
		m, ok := o.(*mailView)
		if !ok {
			return nil, false
		}
		return get(m), true
	}}
}

func bantField(name string, typ *types.Type, get func(*bantView) any) celField {
	return celField{name, typ, func(o any) (any, bool) {
		b, ok := o.(*bantView)
		if !ok {
			return nil, false
		}
		return get(b), true
	}}
}

// objectTypes lists the fields of lead and lead.bant. Keep in sync with
// docs/routing.md.
var objectTypes = map[string][]celField{
	leadTypeName: {
		leadField("email", types.StringType, func(l *leadView) any { return l.email }),
		leadField("name", types.StringType, func(l *leadView) any { return l.name }),
		leadField("company", types.StringType, func(l *leadView) any { return l.company }),
		leadField("title", types.StringType, func(l *leadView) any { return l.title }),
		leadField("industry", types.StringType, func(l *leadView) any { return l.industry }),
		leadField("employees", types.IntType, func(l *leadView) any { return l.employees }),
		leadField("country", types.StringType, func(l *leadView) any { return l.country }),
		leadField("region", types.StringType, func(l *leadView) any { return l.region }),
		leadField("phone", types.StringType, func(l *leadView) any { return l.phone }),
		leadField("stage", types.StringType, func(l *leadView) any { return l.stage }),
		leadField("source", types.StringType, func(l *leadView) any { return l.source }),
		leadField("medium", types.StringType, func(l *leadView) any { return l.medium }),
		leadField("campaign", types.StringType, func(l *leadView) any { return l.campaign }),
		leadField("unsubscribed", types.BoolType, func(l *leadView) any { return l.unsubscribed }),
		leadField("consent", types.BoolType, func(l *leadView) any { return l.consent }),
		leadField("traits", types.NewMapType(types.StringType, types.DynType), func(l *leadView) any { return l.traits }),
		leadField("bant", types.NewObjectType(bantTypeName), func(l *leadView) any { return &l.bant }),
		leadField("score", types.DoubleType, func(l *leadView) any { return l.score }),
		leadField("owner", types.StringType, func(l *leadView) any { return l.owner }),
		leadField("team", types.StringType, func(l *leadView) any { return l.team }),
	},
	bantTypeName: {
		bantField("budget", types.BoolType, func(b *bantView) any { return b.budget }),
		bantField("authority", types.BoolType, func(b *bantView) any { return b.authority }),
		bantField("need", types.BoolType, func(b *bantView) any { return b.need }),
		bantField("timeline_days", types.IntType, func(b *bantView) any { return b.timelineDays }),
	},
	mailTypeName: {
		mailField("sent", func(m *mailView) bool { return m.sent }),
		mailField("opened", func(m *mailView) bool { return m.opened }),
		mailField("clicked", func(m *mailView) bool { return m.clicked }),
	},
}

var errWrongObject = errors.New("nurture: wrong object for field")

// provider serves the two object types and defers the rest to CEL's.
type provider struct {
	types.Provider
	fields map[string]map[string]*types.FieldType
	names  map[string][]string
}

func newProvider(base types.Provider) *provider {
	p := &provider{Provider: base, fields: map[string]map[string]*types.FieldType{}, names: map[string][]string{}}
	for typeName, fs := range objectTypes {
		m := map[string]*types.FieldType{}
		for _, f := range fs {
			get := f.get
			m[f.name] = &types.FieldType{
				Type: f.typ,
				IsSet: func(obj any) bool {
					v, ok := get(obj)
					return ok && !reflect.ValueOf(v).IsZero()
				},
				GetFrom: func(obj any) (any, error) {
					v, ok := get(obj)
					if !ok {
						return nil, errWrongObject
					}
					return v, nil
				},
			}
			p.names[typeName] = append(p.names[typeName], f.name)
		}
		p.fields[typeName] = m
	}
	return p
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if _, ok := p.fields[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Provider.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if n, ok := p.names[name]; ok {
		return n, true
	}
	return p.Provider.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *provider) FindStructFieldType(name, fieldName string) (*types.FieldType, bool) {
	if m, ok := p.fields[name]; ok {
		ft, ok := m[fieldName]
		return ft, ok
	}
	return p.Provider.FindStructFieldType(name, fieldName)
}

// NewValue implements types.Provider: conditions cannot construct leads.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.fields[name]; ok {
		return types.NewErr("cannot construct %s", name)
	}
	return p.Provider.NewValue(name, fields)
}

// newEnv builds the environment of nurture conditions.
func newEnv() (*cel.Env, error) {
	return cel.NewEnv(
		func(e *cel.Env) (*cel.Env, error) {
			return cel.CustomTypeProvider(newProvider(e.CELTypeProvider()))(e)
		},
		ext.Strings(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(celRecursionLimit),
		cel.ParserExpressionSizeLimit(celMaxExprLen),
		cel.Variable("lead", cel.ObjectType(leadTypeName)),
		cel.Variable("score", cel.DoubleType),
		cel.Variable("last_email", cel.ObjectType(mailTypeName)),
	)
}

// activation resolves the variables without a map per evaluation.
type activation struct {
	lead *leadView
	mail *mailView
}

// ResolveName implements interpreter.Activation.
func (a activation) ResolveName(name string) (any, bool) {
	switch name {
	case "lead":
		return a.lead, true
	case "score":
		return a.lead.score, true
	case "last_email":
		return a.mail, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a activation) Parent() interpreter.Activation { return nil }

// eval runs a condition; any runtime error (a missing trait, a wrong type,
// the cost limit) counts as false so that one odd lead cannot stop a
// sequence.
func eval(prg cel.Program, a activation) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	v, _, err := prg.Eval(a)
	if err != nil {
		return false
	}
	b, isBool := v.Value().(bool)
	return isBool && b
}

// The views are ref.Val themselves so that the CEL runtime hands them to
// the field getters unchanged.

var (
	leadObjType = types.NewObjectType(leadTypeName)
	bantObjType = types.NewObjectType(bantTypeName)
	mailObjType = types.NewObjectType(mailTypeName)
)

var errNoConversion = errors.New("leadflow objects cannot be converted")

// ConvertToNative implements ref.Val.
func (v *leadView) ConvertToNative(reflect.Type) (any, error) { return nil, errNoConversion }

// ConvertToType implements ref.Val.
func (v *leadView) ConvertToType(t ref.Type) ref.Val { return convertObj(v, leadObjType, t) }

// Equal implements ref.Val.
func (v *leadView) Equal(o ref.Val) ref.Val { return types.Bool(o == ref.Val(v)) }

// Type implements ref.Val.
func (v *leadView) Type() ref.Type { return leadObjType }

// Value implements ref.Val.
func (v *leadView) Value() any { return v }

// ConvertToNative implements ref.Val.
func (v *bantView) ConvertToNative(reflect.Type) (any, error) { return nil, errNoConversion }

// ConvertToType implements ref.Val.
func (v *bantView) ConvertToType(t ref.Type) ref.Val { return convertObj(v, bantObjType, t) }

// Equal implements ref.Val.
func (v *bantView) Equal(o ref.Val) ref.Val {
	b, ok := o.(*bantView)
	return types.Bool(ok && *b == *v)
}

// Type implements ref.Val.
func (v *bantView) Type() ref.Type { return bantObjType }

// Value implements ref.Val.
func (v *bantView) Value() any { return v }

func convertObj(v ref.Val, own *types.Type, t ref.Type) ref.Val {
	if t == types.TypeType {
		return own
	}
	if t.TypeName() == own.TypeName() {
		return v
	}
	return types.NewErr("type conversion error from %s to %s", own.TypeName(), t.TypeName())
}

// ConvertToNative implements ref.Val.
func (v *mailView) ConvertToNative(reflect.Type) (any, error) { return nil, errNoConversion }

// ConvertToType implements ref.Val.
func (v *mailView) ConvertToType(t ref.Type) ref.Val { return convertObj(v, mailObjType, t) }

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
	prg, err := env.Program(ast, cel.CostLimit(celCostLimit), cel.EvalOptions(cel.OptOptimize))
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
	return eval(c.prg, activation{lead: newLeadView(f.Lead, f.Now), mail: &mailView{sent: f.Sent, opened: f.Opened, clicked: f.Clicked}})
}
