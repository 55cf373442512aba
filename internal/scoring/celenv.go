package scoring

import (
	"reflect"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/leadcel"
)

// eventTypeName is the CEL object type of `event`, as it appears in CEL
// type errors; `lead` is internal/leadcel's.
const eventTypeName = "leadflow.Event"

// UnknownTimelineDays is the value of lead.bant.timeline_days when no
// timeline is known, so that `timeline_days <= 30` is false.
const UnknownTimelineDays = leadcel.UnknownTimelineDays

// celCostLimit bounds the runtime cost of one evaluation.
const celCostLimit = leadcel.CostLimit

// celEvent is the view of an event that rules see as `event`.
type celEvent struct {
	typ, name           string
	properties, context map[string]any
	timestamp           time.Time
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

func eventField(name string, typ *types.Type, get func(*celEvent) any) leadcel.Field {
	return leadcel.ObjectField(name, typ, get)
}

// eventType lists the fields of `event`. Keep in sync with the CEL
// variable reference in doc.go (the fields of `lead` are leadcel's).
var eventType = leadcel.Type{Name: eventTypeName, Fields: []leadcel.Field{
	eventField("type", types.StringType, func(e *celEvent) any { return e.typ }),
	eventField("name", types.StringType, func(e *celEvent) any { return e.name }),
	eventField("properties", leadcel.DynMap, func(e *celEvent) any { return leadcel.NonNilMap(e.properties) }),
	eventField("context", leadcel.DynMap, func(e *celEvent) any { return leadcel.NonNilMap(e.context) }),
	eventField("timestamp", types.TimestampType, func(e *celEvent) any { return e.timestamp }),
}}

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
	var vars []cel.EnvOption
	if k == envBehavior || k == envStage {
		vars = append(vars, cel.Variable("event", cel.ObjectType(eventTypeName)))
	}
	if k == envStage || k == envExpiry {
		vars = append(vars,
			cel.Variable("score", cel.DoubleType),
			cel.Variable("fit_score", cel.DoubleType),
			cel.Variable("behavior_score", cel.DoubleType))
	}
	return leadcel.NewEnv(leadcel.Config{Types: []leadcel.Type{eventType}, Variables: vars})
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
	lead                         *leadcel.Lead
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
func eval(prg cel.Program, act *activation) bool { return leadcel.Eval(prg, act) }

// celEvent is a ref.Val itself, so the CEL runtime passes it to the field
// getters as it is instead of failing (expensively) to convert it. Value
// returns the pointer the getters expect.

var eventObjType = types.NewObjectType(eventTypeName)

// ConvertToNative implements ref.Val.
func (c *celEvent) ConvertToNative(reflect.Type) (any, error) { return nil, leadcel.ErrNoConversion }

// ConvertToType implements ref.Val.
func (c *celEvent) ConvertToType(t ref.Type) ref.Val { return leadcel.Convert(c, eventObjType, t) }

// Equal implements ref.Val.
func (c *celEvent) Equal(o ref.Val) ref.Val { return types.Bool(o == ref.Val(c)) }

// Type implements ref.Val.
func (c *celEvent) Type() ref.Type { return eventObjType }

// Value implements ref.Val.
func (c *celEvent) Value() any { return c }
