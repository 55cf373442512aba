// Package leadcel is the typed CEL `lead` object that the scoring model,
// routing rules and nurture sequences share: the object type and its
// fields, the value built from a *leadflow.Lead, the environment limits and
// the evaluation rule (an error is false). Each caller adds its own
// variables (event, score, last_email…), object types and lead fields
// through Config, so the words an author writes mean the same everywhere.
package leadcel

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
	LeadTypeName = "leadflow.Lead"
	BANTTypeName = "leadflow.BANT"
)

// UnknownTimelineDays is the value of lead.bant.timeline_days when no
// timeline is known, so that `timeline_days <= 30` is false.
const UnknownTimelineDays = math.MaxInt32

// Limits that keep a pathological condition from hanging evaluation or the
// parser.
const (
	CostLimit      = 100_000 // runtime cost units per evaluation
	MaxExprLen     = 4096    // code points per expression
	RecursionLimit = 32      // parser nesting depth
)

// Lead is the view of a lead that conditions see as `lead`. It is a plain
// struct read through a hand-written type provider, so that unknown fields
// fail at compile time and field access costs no reflection. The zero
// value is not ready: fill it with Set.
type Lead struct {
	email, name, company, title, industry string
	employees                             int64
	country, region, phone, stage         string
	source, medium, campaign              string
	unsubscribed, consent                 bool
	traits                                map[string]any
	bant                                  BANT
	src                                   *leadflow.Lead
}

// BANT is the view of lead.bant.
type BANT struct {
	budget, authority, need bool
	timelineDays            int64
}

// NewLead returns the view of l; timeline_days is counted from now.
func NewLead(l *leadflow.Lead, now time.Time) *Lead {
	v := new(Lead)
	v.Set(l, now)
	return v
}

// Set fills v from l (nil: a lead with no data); timeline_days is counted
// from now. Reusing one view across evaluations avoids an allocation.
func (v *Lead) Set(l *leadflow.Lead, now time.Time) {
	if l == nil {
		*v = Lead{bant: BANT{timelineDays: UnknownTimelineDays}}
		return
	}
	*v = Lead{
		email: l.Email, name: l.Name, company: l.Company, title: l.Title,
		industry: l.Industry, employees: int64(l.Employees),
		country: l.Country, region: l.Region, phone: l.Phone, stage: string(l.Stage),
		source: l.FirstTouch.Source, medium: l.FirstTouch.Medium, campaign: l.FirstTouch.Campaign,
		unsubscribed: l.Unsubscribed, consent: l.Consent, traits: l.Traits,
		bant: BANT{budget: l.BANT.Budget, authority: l.BANT.Authority, need: l.BANT.Need,
			timelineDays: TimelineDays(l.BANT, now)},
		src: l,
	}
}

// TimelineDays is lead.bant.timeline_days of b at now.
func TimelineDays(b leadflow.BANT, now time.Time) int64 {
	if b.Timeline == nil {
		return UnknownTimelineDays
	}
	return int64(b.TimelineDays(now))
}

var noLead leadflow.Lead

// Source is the lead the view was built from (an empty lead when there was
// none), for the getters of a caller's extra lead fields. It must not be
// modified.
func (v *Lead) Source() *leadflow.Lead {
	if v.src == nil {
		return &noLead
	}
	return v.src
}

// Field is one field of a CEL object type.
type Field struct {
	name  string
	typ   *types.Type
	get   func(obj any) (any, bool) // value, and whether obj had the right type
	isSet func(obj any) bool        // has(); nil: the value is not zero
}

// Name is the field's name in CEL.
func (f Field) Name() string { return f.name }

// ObjectField describes a field of an object type whose values are *T.
func ObjectField[T any](name string, typ *types.Type, get func(*T) any) Field {
	return Field{name: name, typ: typ,
		get: func(o any) (any, bool) {
			t, ok := o.(*T)
			if !ok {
				return nil, false
			}
			return get(t), true
		},
	}
}

// LeadField describes an extra field of `lead`, read from the view (most
// often from its Source).
func LeadField(name string, typ *types.Type, get func(*Lead) any) Field {
	return ObjectField(name, typ, get)
}

// Type is a caller's own CEL object type, such as the scoring model's
// event. Its values must be ref.Val (see Convert) so that the runtime hands
// them to the getters unchanged.
type Type struct {
	Name   string
	Fields []Field
}

// DynMap is the CEL type of a map of strings to anything (traits,
// properties).
var DynMap = types.NewMapType(types.StringType, types.DynType)

var emptyMap = map[string]any{}

// NonNilMap returns m, or an empty map when m is nil, so that a missing key
// is a CEL error (false) rather than a nil dereference.
func NonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return emptyMap
	}
	return m
}

// leadFields are the fields of `lead` every caller has. Keep in sync with
// the CEL variable reference in internal/scoring/doc.go and docs/routing.md.
var leadFields = []Field{
	LeadField("email", types.StringType, func(l *Lead) any { return l.email }),
	LeadField("name", types.StringType, func(l *Lead) any { return l.name }),
	LeadField("company", types.StringType, func(l *Lead) any { return l.company }),
	LeadField("title", types.StringType, func(l *Lead) any { return l.title }),
	LeadField("industry", types.StringType, func(l *Lead) any { return l.industry }),
	LeadField("employees", types.IntType, func(l *Lead) any { return l.employees }),
	LeadField("country", types.StringType, func(l *Lead) any { return l.country }),
	LeadField("region", types.StringType, func(l *Lead) any { return l.region }),
	LeadField("phone", types.StringType, func(l *Lead) any { return l.phone }),
	LeadField("stage", types.StringType, func(l *Lead) any { return l.stage }),
	LeadField("source", types.StringType, func(l *Lead) any { return l.source }),
	LeadField("medium", types.StringType, func(l *Lead) any { return l.medium }),
	LeadField("campaign", types.StringType, func(l *Lead) any { return l.campaign }),
	LeadField("unsubscribed", types.BoolType, func(l *Lead) any { return l.unsubscribed }),
	LeadField("consent", types.BoolType, func(l *Lead) any { return l.consent }),
	LeadField("traits", DynMap, func(l *Lead) any { return NonNilMap(l.traits) }),
	LeadField("bant", types.NewObjectType(BANTTypeName), func(l *Lead) any { return &l.bant }),
}

var bantFields = []Field{
	ObjectField("budget", types.BoolType, func(b *BANT) any { return b.budget }),
	ObjectField("authority", types.BoolType, func(b *BANT) any { return b.authority }),
	ObjectField("need", types.BoolType, func(b *BANT) any { return b.need }),
	ObjectField("timeline_days", types.IntType, func(b *BANT) any { return b.timelineDays }),
}

// ScoreOwnerTeam are lead.score, lead.owner and lead.team, which routing
// and nurture conditions add to `lead` (the scoring model computes the
// score, so its rules do not see it there).
var ScoreOwnerTeam = []Field{
	LeadField("score", types.DoubleType, func(l *Lead) any { return l.Source().Score }),
	LeadField("owner", types.StringType, func(l *Lead) any { return l.Source().Owner }),
	LeadField("team", types.StringType, func(l *Lead) any { return l.Source().Team }),
}

// Config is what a caller adds to the shared environment.
type Config struct {
	// LeadFields are extra fields of `lead` (routing: score, owner, team).
	LeadFields []Field
	// Types are extra object types (scoring: the event).
	Types []Type
	// Variables are declared after `lead` (cel.Variable options).
	Variables []cel.EnvOption
	// TraitsAlwaysSet makes has(lead.traits) true for every lead, even one
	// without traits (false only when there is no lead), as routing and
	// nurture conditions have always seen it; the scoring model's
	// has(lead.traits) is true only when there are traits.
	TraitsAlwaysSet bool
}

// NewEnv builds a CEL environment with the variable `lead`, the string
// extensions, cross-type numeric comparisons, the parser limits, and what
// cfg adds.
func NewEnv(cfg Config) (*cel.Env, error) {
	fields, names := fieldTypes(cfg)
	opts := []cel.EnvOption{
		func(e *cel.Env) (*cel.Env, error) {
			p := &provider{Provider: e.CELTypeProvider(), fields: fields, names: names}
			return cel.CustomTypeProvider(p)(e)
		},
		ext.Strings(),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(RecursionLimit),
		cel.ParserExpressionSizeLimit(MaxExprLen),
		cel.Variable("lead", cel.ObjectType(LeadTypeName)),
	}
	return cel.NewEnv(append(opts, cfg.Variables...)...)
}

// Eval runs a compiled condition; any runtime error (a missing key, a
// wrong type, the cost limit), even a panic, counts as false so that one
// odd lead or event cannot break the caller.
func Eval(prg cel.Program, act interpreter.Activation) (ok bool) {
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

// Activation resolves `lead` alone, for conditions that use no other
// variable, without a map per evaluation.
type Activation struct{ Lead *Lead }

// ResolveName implements interpreter.Activation.
func (a Activation) ResolveName(name string) (any, bool) {
	if name == "lead" {
		return a.Lead, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a Activation) Parent() interpreter.Activation { return nil }

var errWrongObject = errors.New("leadcel: wrong object for field")

// provider serves the leadflow object types and defers everything else to
// the default CEL provider.
type provider struct {
	types.Provider
	fields map[string]map[string]*types.FieldType
	names  map[string][]string
}

// fieldTypes builds the field tables of every object type cfg uses.
func fieldTypes(cfg Config) (map[string]map[string]*types.FieldType, map[string][]string) {
	lead := append(append([]Field(nil), leadFields...), cfg.LeadFields...)
	if cfg.TraitsAlwaysSet {
		for i := range lead {
			if lead[i].name == "traits" {
				lead[i].isSet = func(o any) bool {
					l, ok := o.(*Lead)
					return ok && (l.src != nil || len(l.traits) > 0)
				}
			}
		}
	}
	all := append([]Type{{LeadTypeName, lead}, {BANTTypeName, bantFields}}, cfg.Types...)
	fields, names := map[string]map[string]*types.FieldType{}, map[string][]string{}
	for _, t := range all {
		m := map[string]*types.FieldType{}
		for _, f := range t.Fields {
			get, isSet := f.get, f.isSet
			if isSet == nil {
				isSet = func(obj any) bool {
					v, ok := get(obj)
					return ok && !isZero(v)
				}
			}
			m[f.name] = &types.FieldType{
				Type:  f.typ,
				IsSet: isSet,
				GetFrom: func(obj any) (any, error) {
					v, ok := get(obj)
					if !ok {
						return nil, errWrongObject
					}
					return v, nil
				},
			}
			names[t.Name] = append(names[t.Name], f.name)
		}
		fields[t.Name] = m
	}
	return fields, names
}

func isZero(v any) bool {
	switch v := v.(type) {
	case string:
		return v == ""
	case int64:
		return v == 0
	case float64:
		return math.Float64bits(v) == 0
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

// NewValue implements types.Provider: conditions cannot construct leads
// or any other leadflow object.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.fields[name]; ok {
		return types.NewErr("cannot construct %s", name)
	}
	return p.Provider.NewValue(name, fields)
}

// The views are ref.Val themselves, so the CEL runtime passes them to the
// field getters as they are instead of failing (expensively) to convert
// them. Value returns the pointer the getters expect.

var (
	leadObjType = types.NewObjectType(LeadTypeName)
	bantObjType = types.NewObjectType(BANTTypeName)
)

// ErrNoConversion is ConvertToNative's error for every leadflow object.
var ErrNoConversion = errors.New("leadflow objects cannot be converted")

// ConvertToNative implements ref.Val.
func (v *Lead) ConvertToNative(reflect.Type) (any, error) { return nil, ErrNoConversion }

// ConvertToType implements ref.Val.
func (v *Lead) ConvertToType(t ref.Type) ref.Val { return Convert(v, leadObjType, t) }

// Equal implements ref.Val.
func (v *Lead) Equal(o ref.Val) ref.Val { return types.Bool(o == ref.Val(v)) }

// Type implements ref.Val.
func (v *Lead) Type() ref.Type { return leadObjType }

// Value implements ref.Val.
func (v *Lead) Value() any { return v }

// ConvertToNative implements ref.Val.
func (v *BANT) ConvertToNative(reflect.Type) (any, error) { return nil, ErrNoConversion }

// ConvertToType implements ref.Val.
func (v *BANT) ConvertToType(t ref.Type) ref.Val { return Convert(v, bantObjType, t) }

// Equal implements ref.Val.
func (v *BANT) Equal(o ref.Val) ref.Val {
	b, ok := o.(*BANT)
	return types.Bool(ok && *b == *v)
}

// Type implements ref.Val.
func (v *BANT) Type() ref.Type { return bantObjType }

// Value implements ref.Val.
func (v *BANT) Value() any { return v }

// Convert implements ref.Val's ConvertToType for an object v of type own:
// its type, itself, or a conversion error.
func Convert(v ref.Val, own *types.Type, t ref.Type) ref.Val {
	if t == types.TypeType {
		return own
	}
	if t.TypeName() == own.TypeName() {
		return v
	}
	return types.NewErr("type conversion error from %s to %s", own.TypeName(), t.TypeName())
}
