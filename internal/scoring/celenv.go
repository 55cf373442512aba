package scoring

import (
	"errors"
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

// CEL object type names, as they appear in CEL type errors.
const (
	leadTypeName  = "leadflow.Lead"
	eventTypeName = "leadflow.Event"
	bantTypeName  = "leadflow.BANT"
)

// UnknownTimelineDays is the value of lead.bant.timeline_days when no
// timeline is known, so that `timeline_days <= 30` is false.
const UnknownTimelineDays = math.MaxInt32

// Limits that keep a pathological rule from hanging evaluation or the parser.
const (
	celCostLimit      = 100_000 // runtime cost units per evaluation
	celMaxExprLen     = 4096    // code points per `when`
	celRecursionLimit = 32      // parser nesting depth
)

// celLead is the view of a lead that rules see as `lead`. It is a plain
// struct read through a hand-written type provider (below), so that unknown
// fields fail at compile time and field access costs no reflection.
type celLead struct {
	email, name, company, title, industry string
	employees                             int64
	country, region, phone, stage         string
	source, medium, campaign              string
	unsubscribed, consent                 bool
	traits                                map[string]any
	bant                                  celBANT
}

type celBANT struct {
	budget, authority, need bool
	timelineDays            int64
}

// celEvent is the view of an event that rules see as `event`.
type celEvent struct {
	typ, name           string
	properties, context map[string]any
	timestamp           time.Time
}

// set fills c from l; timeline_days is counted from now.
func (c *celLead) set(l *leadflow.Lead, now time.Time) {
	if l == nil {
		*c = celLead{bant: celBANT{timelineDays: UnknownTimelineDays}}
		return
	}
	*c = celLead{
		email: l.Email, name: l.Name, company: l.Company, title: l.Title,
		industry: l.Industry, employees: int64(l.Employees),
		country: l.Country, region: l.Region, phone: l.Phone, stage: string(l.Stage),
		source: l.FirstTouch.Source, medium: l.FirstTouch.Medium, campaign: l.FirstTouch.Campaign,
		unsubscribed: l.Unsubscribed, consent: l.Consent, traits: l.Traits,
		bant: celBANT{budget: l.BANT.Budget, authority: l.BANT.Authority, need: l.BANT.Need,
			timelineDays: timelineDays(l.BANT, now)},
	}
}

func timelineDays(b leadflow.BANT, now time.Time) int64 {
	if b.Timeline == nil {
		return UnknownTimelineDays
	}
	return int64(b.TimelineDays(now))
}

// set fills c from e; a nil event is the empty event (type "" and name "").
func (c *celEvent) set(e *leadflow.Event) {
	if e == nil {
		*c = celEvent{}
		return
	}
	*c = celEvent{typ: string(e.Type), name: e.Name, properties: e.Properties,
		context: e.Context, timestamp: e.Timestamp}
}

// celField describes one field of a CEL object type.
type celField struct {
	name string
	typ  *types.Type
	get  func(obj any) (any, bool) // value, and whether obj had the right type
}

var errWrongObject = errors.New("scoring: wrong object for field")

func leadField(name string, typ *types.Type, get func(*celLead) any) celField {
	return celField{name: name, typ: typ,
		get: func(o any) (any, bool) {
			l, ok := o.(*celLead)
			if !ok {
				return nil, false
			}
			return get(l), true
		},
	}
}

func eventField(name string, typ *types.Type, get func(*celEvent) any) celField {
	return celField{name: name, typ: typ,
		get: func(o any) (any, bool) {
			e, ok := o.(*celEvent)
			if !ok {
				return nil, false
			}
			return get(e), true
		},
	}
}

func bantField(name string, typ *types.Type, get func(*celBANT) any) celField {
	return celField{name: name, typ: typ,
		get: func(o any) (any, bool) {
			b, ok := o.(*celBANT)
			if !ok {
				return nil, false
			}
			return get(b), true
		},
	}
}

var dynMap = types.NewMapType(types.StringType, types.DynType)

// celTypes lists the object types and their fields. Keep in sync with the
// CEL variable reference in doc.go.
var celTypes = map[string][]celField{
	leadTypeName: {
		leadField("email", types.StringType, func(l *celLead) any { return l.email }),
		leadField("name", types.StringType, func(l *celLead) any { return l.name }),
		leadField("company", types.StringType, func(l *celLead) any { return l.company }),
		leadField("title", types.StringType, func(l *celLead) any { return l.title }),
		leadField("industry", types.StringType, func(l *celLead) any { return l.industry }),
		leadField("employees", types.IntType, func(l *celLead) any { return l.employees }),
		leadField("country", types.StringType, func(l *celLead) any { return l.country }),
		leadField("region", types.StringType, func(l *celLead) any { return l.region }),
		leadField("phone", types.StringType, func(l *celLead) any { return l.phone }),
		leadField("stage", types.StringType, func(l *celLead) any { return l.stage }),
		leadField("source", types.StringType, func(l *celLead) any { return l.source }),
		leadField("medium", types.StringType, func(l *celLead) any { return l.medium }),
		leadField("campaign", types.StringType, func(l *celLead) any { return l.campaign }),
		leadField("unsubscribed", types.BoolType, func(l *celLead) any { return l.unsubscribed }),
		leadField("consent", types.BoolType, func(l *celLead) any { return l.consent }),
		leadField("traits", dynMap, func(l *celLead) any { return nonNilMap(l.traits) }),
		leadField("bant", types.NewObjectType(bantTypeName), func(l *celLead) any { return &l.bant }),
	},
	bantTypeName: {
		bantField("budget", types.BoolType, func(b *celBANT) any { return b.budget }),
		bantField("authority", types.BoolType, func(b *celBANT) any { return b.authority }),
		bantField("need", types.BoolType, func(b *celBANT) any { return b.need }),
		bantField("timeline_days", types.IntType, func(b *celBANT) any { return b.timelineDays }),
	},
	eventTypeName: {
		eventField("type", types.StringType, func(e *celEvent) any { return e.typ }),
		eventField("name", types.StringType, func(e *celEvent) any { return e.name }),
		eventField("properties", dynMap, func(e *celEvent) any { return nonNilMap(e.properties) }),
		eventField("context", dynMap, func(e *celEvent) any { return nonNilMap(e.context) }),
		eventField("timestamp", types.TimestampType, func(e *celEvent) any { return e.timestamp }),
	},
}

var emptyMap = map[string]any{}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return emptyMap
	}
	return m
}

// provider serves the leadflow object types and defers everything else to
// the default CEL provider.
type provider struct {
	types.Provider
	fields map[string]map[string]*types.FieldType
	names  map[string][]string
}

func newProvider(base types.Provider) *provider {
	p := &provider{Provider: base, fields: map[string]map[string]*types.FieldType{}, names: map[string][]string{}}
	for typeName, fs := range celTypes {
		m := map[string]*types.FieldType{}
		for _, f := range fs {
			get := f.get
			m[f.name] = &types.FieldType{
				Type: f.typ,
				IsSet: func(obj any) bool {
					v, ok := get(obj)
					return ok && !isZero(v)
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

func isZero(v any) bool {
	switch v := v.(type) {
	case string:
		return v == ""
	case int64:
		return v == 0
	case bool:
		return !v
	case map[string]any:
		return len(v) == 0
	case time.Time:
		return v.IsZero()
	}
	return false
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
func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if m, ok := p.fields[name]; ok {
		ft, ok := m[field]
		return ft, ok
	}
	return p.Provider.FindStructFieldType(name, field)
}

// NewValue implements types.Provider: rules cannot construct leads or events.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.fields[name]; ok {
		return types.NewErr("cannot construct %s", name)
	}
	return p.Provider.NewValue(name, fields)
}

// envKind selects the variables a rule may use.
type envKind int

const (
	envFit      envKind = iota // lead
	envBehavior                // lead, event
	envStage                   // score, fit_score, behavior_score, lead, event
	envExpiry                  // score, fit_score, behavior_score, lead
)

func (k envKind) String() string {
	return [...]string{"fit", "behavior", "stage", "expiry"}[k]
}

// newEnv builds the CEL environment of one rule kind.
func newEnv(k envKind) (*cel.Env, error) {
	opts := []cel.EnvOption{
		func(e *cel.Env) (*cel.Env, error) {
			return cel.CustomTypeProvider(newProvider(e.CELTypeProvider()))(e)
		},
		ext.Strings(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(celRecursionLimit),
		cel.ParserExpressionSizeLimit(celMaxExprLen),
		cel.Variable("lead", cel.ObjectType(leadTypeName)),
	}
	if k == envBehavior || k == envStage {
		opts = append(opts, cel.Variable("event", cel.ObjectType(eventTypeName)))
	}
	if k == envStage || k == envExpiry {
		opts = append(opts,
			cel.Variable("score", cel.DoubleType),
			cel.Variable("fit_score", cel.DoubleType),
			cel.Variable("behavior_score", cel.DoubleType))
	}
	return cel.NewEnv(opts...)
}

// envs holds one environment per rule kind; built once per Compile call
// because cel.Env is cheap to share but not to build.
type envs [4]*cel.Env

func newEnvs() (envs, error) {
	var e envs
	for k := range e {
		env, err := newEnv(envKind(k))
		if err != nil {
			return e, err
		}
		e[k] = env
	}
	return e, nil
}

// activation resolves rule variables without allocating a map per evaluation.
type activation struct {
	lead                         *celLead
	event                        *celEvent
	score, fitScore, behaviorScr float64
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "lead":
		return a.lead, a.lead != nil
	case "event":
		return a.event, a.event != nil
	case "score":
		return a.score, true
	case "fit_score":
		return a.fitScore, true
	case "behavior_score":
		return a.behaviorScr, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// eval runs a compiled condition; any runtime error (a missing key, a wrong
// type, the cost limit) counts as false so one odd event cannot break scoring.
func eval(prg cel.Program, act *activation) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	v, _, err := prg.Eval(act)
	if err != nil {
		return false
	}
	b, isBool := v.Value().(bool)
	return isBool && b
}

// The view structs are ref.Val themselves, so the CEL runtime passes them
// to the field getters as they are instead of failing (expensively) to
// convert them. Value returns the pointer the getters expect.

var (
	leadObjType  = types.NewObjectType(leadTypeName)
	eventObjType = types.NewObjectType(eventTypeName)
	bantObjType  = types.NewObjectType(bantTypeName)
)

// ConvertToNative implements ref.Val.
func (c *celLead) ConvertToNative(reflect.Type) (any, error) { return nil, errNoConversion }

// ConvertToType implements ref.Val.
func (c *celLead) ConvertToType(t ref.Type) ref.Val { return convertObj(c, leadObjType, t) }

// Equal implements ref.Val.
func (c *celLead) Equal(o ref.Val) ref.Val { return types.Bool(o == ref.Val(c)) }

// Type implements ref.Val.
func (c *celLead) Type() ref.Type { return leadObjType }

// Value implements ref.Val.
func (c *celLead) Value() any { return c }

// ConvertToNative implements ref.Val.
func (c *celEvent) ConvertToNative(reflect.Type) (any, error) { return nil, errNoConversion }

// ConvertToType implements ref.Val.
func (c *celEvent) ConvertToType(t ref.Type) ref.Val { return convertObj(c, eventObjType, t) }

// Equal implements ref.Val.
func (c *celEvent) Equal(o ref.Val) ref.Val { return types.Bool(o == ref.Val(c)) }

// Type implements ref.Val.
func (c *celEvent) Type() ref.Type { return eventObjType }

// Value implements ref.Val.
func (c *celEvent) Value() any { return c }

// ConvertToNative implements ref.Val.
func (c *celBANT) ConvertToNative(reflect.Type) (any, error) { return nil, errNoConversion }

// ConvertToType implements ref.Val.
func (c *celBANT) ConvertToType(t ref.Type) ref.Val { return convertObj(c, bantObjType, t) }

// Equal implements ref.Val.
func (c *celBANT) Equal(o ref.Val) ref.Val {
	b, ok := o.(*celBANT)
	return types.Bool(ok && *b == *c)
}

// Type implements ref.Val.
func (c *celBANT) Type() ref.Type { return bantObjType }

// Value implements ref.Val.
func (c *celBANT) Value() any { return c }

var errNoConversion = errors.New("leadflow objects cannot be converted")

func convertObj(v ref.Val, own *types.Type, t ref.Type) ref.Val {
	switch t {
	case types.TypeType:
		return own
	}
	if t.TypeName() == own.TypeName() {
		return v
	}
	return types.NewErr("type conversion error from %s to %s", own.TypeName(), t.TypeName())
}
