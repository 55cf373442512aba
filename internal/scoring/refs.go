package scoring

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/leadcel"
)

// maxGroupRules is how many rules share one memo entry (a uint64 bitmask).
const maxGroupRules = 64

// refs is what a condition reads of `lead` and `event`.
type refs struct {
	paths map[string][]string // "event.properties.path" -> [event properties path]
	whole bool                // reads `lead` or `event` as a whole value
}

// collectRefs walks a checked expression for the maximal selections it
// makes on lead and event: `event.properties.path.startsWith("/p")` reads
// event.properties.path; `event.properties["utm source"]` reads that key;
// `event.properties[k]` with a computed k reads all of event.properties.
func collectRefs(e celast.Expr, shadow map[string]int, out *refs) {
	if e == nil {
		return
	}
	if segs, ok := selectPath(e); ok {
		if (segs[0] == "lead" || segs[0] == "event") && shadow[segs[0]] == 0 {
			if len(segs) == 1 {
				out.whole = true
			} else {
				out.paths[strings.Join(segs, "\x00")] = segs
			}
		}
		return
	}
	switch e.Kind() {
	case celast.SelectKind:
		collectRefs(e.AsSelect().Operand(), shadow, out)
	case celast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			collectRefs(c.Target(), shadow, out)
		}
		for _, a := range c.Args() {
			collectRefs(a, shadow, out)
		}
	case celast.ListKind:
		for _, x := range e.AsList().Elements() {
			collectRefs(x, shadow, out)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			collectRefs(en.AsMapEntry().Key(), shadow, out)
			collectRefs(en.AsMapEntry().Value(), shadow, out)
		}
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			collectRefs(f.AsStructField().Value(), shadow, out)
		}
	case celast.ComprehensionKind:
		cx := e.AsComprehension()
		collectRefs(cx.IterRange(), shadow, out)
		collectRefs(cx.AccuInit(), shadow, out)
		vars := []string{cx.IterVar(), cx.AccuVar()}
		if cx.HasIterVar2() {
			vars = append(vars, cx.IterVar2())
		}
		for _, v := range vars {
			shadow[v]++
		}
		collectRefs(cx.LoopCondition(), shadow, out)
		collectRefs(cx.LoopStep(), shadow, out)
		collectRefs(cx.Result(), shadow, out)
		for _, v := range vars {
			shadow[v]--
		}
	}
}

// selectPath returns the identifier and field names of a selection chain
// such as lead.bant.need or event.properties["path"].
func selectPath(e celast.Expr) ([]string, bool) {
	switch e.Kind() {
	case celast.IdentKind:
		return []string{e.AsIdent()}, true
	case celast.SelectKind:
		s := e.AsSelect()
		p, ok := selectPath(s.Operand())
		if !ok {
			return nil, false
		}
		return append(p, s.FieldName()), true
	case celast.CallKind:
		c := e.AsCall()
		if c.FunctionName() != operators.Index || len(c.Args()) != 2 || c.Args()[1].Kind() != celast.LiteralKind {
			return nil, false
		}
		key, ok := c.Args()[1].AsLiteral().(types.String)
		if !ok {
			return nil, false
		}
		p, ok := selectPath(c.Args()[0])
		if !ok {
			return nil, false
		}
		return append(p, string(key)), true
	}
	return nil, false
}

func ruleRefs(r *rule) refs {
	out := refs{paths: map[string][]string{}}
	collectRefs(r.ast.NativeRep().Expr(), map[string]int{}, &out)
	return out
}

// keyer appends the memo-key encoding of one field of (lead, event) to buf;
// false means the value cannot be memoized (a list, a whole map, …).
type keyer func(buf []byte, l *leadflow.Lead, e *leadflow.Event) ([]byte, bool)

// group is a set of behavior rules that read the same fields and so share
// one memo entry: the bitmask of which of them hold.
type group struct {
	rules  []*rule
	keyers []keyer
	memo   bool
}

// groupRules groups behavior rules by the fields they read.
func groupRules(rs []*rule) []*group {
	var gs []*group
	open := map[string]*group{}
	for _, r := range rs {
		rf := ruleRefs(r)
		keys := make([]string, 0, len(rf.paths))
		for k := range rf.paths {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		memo := !rf.whole
		ks := make([]keyer, 0, len(keys))
		for _, k := range keys {
			kr, ok := newKeyer(rf.paths[k])
			if !ok {
				memo = false
			}
			ks = append(ks, kr)
		}
		gk := strings.Join(keys, "\x01")
		if !memo {
			gk, ks = "\x02", nil
		}
		g := open[gk]
		if g == nil || len(g.rules) == maxGroupRules {
			g = &group{keyers: ks, memo: memo}
			open[gk] = g
			gs = append(gs, g)
		}
		g.rules = append(g.rules, r)
	}
	return gs
}

// eventFields returns the event fields the rules read, as dotted paths.
func eventFields(rs ...*rule) []string {
	set := map[string]bool{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		rf := ruleRefs(r)
		if rf.whole {
			for _, f := range eventType.Fields {
				set[f.Name()] = true
			}
		}
		for _, segs := range rf.paths {
			if segs[0] == "event" {
				set[strings.Join(segs[1:], ".")] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Memo-key tags. Every value is tagged and strings are length-prefixed, so
// that concatenated keys of several fields cannot collide.
const (
	tagMissing = 'm' // key absent from a map
	tagNotMap  = 'x' // selecting into a scalar (CEL: error, so false)
	tagEmpty   = 'E' // empty or nil map
	tagString  = 's'
	tagFloat   = 'f'
	tagInt     = 'i'
	tagTrue    = 't'
	tagFalse   = 'F'
	tagNull    = 'n'
	tagNumber  = 'j' // json.Number
)

func appendString(buf []byte, s string) []byte {
	buf = append(buf, tagString)
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendInt(buf []byte, n int64) []byte {
	return binary.LittleEndian.AppendUint64(append(buf, tagInt), uint64(n))
}

func appendBool(buf []byte, b bool) []byte {
	if b {
		return append(buf, tagTrue)
	}
	return append(buf, tagFalse)
}

// appendValue encodes a JSON-like value found at the end of a map path.
func appendValue(buf []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(buf, tagNull), true
	case string:
		return appendString(buf, v), true
	case float64:
		return binary.LittleEndian.AppendUint64(append(buf, tagFloat), math.Float64bits(v)), true
	case int:
		return appendInt(buf, int64(v)), true
	case int64:
		return appendInt(buf, v), true
	case bool:
		return appendBool(buf, v), true
	case json.Number:
		buf = append(buf, tagNumber)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		return append(buf, v...), true
	case map[string]any:
		if len(v) == 0 {
			return append(buf, tagEmpty), true
		}
	}
	return buf, false
}

// appendPath encodes the value at path inside m.
func appendPath(buf []byte, m map[string]any, path []string) ([]byte, bool) {
	if len(path) == 0 {
		if len(m) == 0 {
			return append(buf, tagEmpty), true
		}
		return buf, false
	}
	var v any = m
	for _, k := range path {
		switch mv := v.(type) {
		case map[string]any:
			x, ok := mv[k]
			if !ok {
				return append(buf, tagMissing), true
			}
			v = x
		case nil, string, float64, int, int64, bool, json.Number:
			return append(buf, tagNotMap), true
		default:
			return buf, false
		}
	}
	return appendValue(buf, v)
}

// newKeyer builds the key encoder of one selection path; false when the
// path cannot be memoized (event.timestamp differs for every event).
func newKeyer(segs []string) (keyer, bool) {
	root, f, rest := segs[0], segs[1], segs[2:]
	if root == "event" {
		switch f {
		case "type":
			if len(rest) > 0 {
				return nil, false
			}
			return func(b []byte, _ *leadflow.Lead, e *leadflow.Event) ([]byte, bool) {
				return appendString(b, string(e.Type)), true
			}, true
		case "name":
			if len(rest) > 0 {
				return nil, false
			}
			return func(b []byte, _ *leadflow.Lead, e *leadflow.Event) ([]byte, bool) {
				return appendString(b, e.Name), true
			}, true
		case "properties":
			return func(b []byte, _ *leadflow.Lead, e *leadflow.Event) ([]byte, bool) {
				return appendPath(b, e.Properties, rest)
			}, true
		case "context":
			return func(b []byte, _ *leadflow.Lead, e *leadflow.Event) ([]byte, bool) {
				return appendPath(b, e.Context, rest)
			}, true
		}
		return nil, false
	}
	if f == "traits" {
		return func(b []byte, l *leadflow.Lead, _ *leadflow.Event) ([]byte, bool) {
			if l == nil {
				return appendPath(b, nil, rest)
			}
			return appendPath(b, l.Traits, rest)
		}, true
	}
	if f == "bant" && len(rest) == 1 {
		var get func(l *leadflow.Lead, e *leadflow.Event, b []byte) []byte
		switch rest[0] {
		case "budget":
			get = func(l *leadflow.Lead, _ *leadflow.Event, b []byte) []byte { return appendBool(b, l.BANT.Budget) }
		case "authority":
			get = func(l *leadflow.Lead, _ *leadflow.Event, b []byte) []byte { return appendBool(b, l.BANT.Authority) }
		case "need":
			get = func(l *leadflow.Lead, _ *leadflow.Event, b []byte) []byte { return appendBool(b, l.BANT.Need) }
		case "timeline_days":
			get = func(l *leadflow.Lead, e *leadflow.Event, b []byte) []byte {
				return appendInt(b, leadcel.TimelineDays(l.BANT, e.Timestamp))
			}
		default:
			return nil, false
		}
		return func(b []byte, l *leadflow.Lead, e *leadflow.Event) ([]byte, bool) {
			if l == nil {
				return append(b, tagNull), true
			}
			return get(l, e, b), true
		}, true
	}
	if len(rest) > 0 {
		return nil, false
	}
	var str func(l *leadflow.Lead) string
	switch f {
	case "email":
		str = func(l *leadflow.Lead) string { return l.Email }
	case "name":
		str = func(l *leadflow.Lead) string { return l.Name }
	case "company":
		str = func(l *leadflow.Lead) string { return l.Company }
	case "title":
		str = func(l *leadflow.Lead) string { return l.Title }
	case "industry":
		str = func(l *leadflow.Lead) string { return l.Industry }
	case "country":
		str = func(l *leadflow.Lead) string { return l.Country }
	case "region":
		str = func(l *leadflow.Lead) string { return l.Region }
	case "phone":
		str = func(l *leadflow.Lead) string { return l.Phone }
	case "stage":
		str = func(l *leadflow.Lead) string { return string(l.Stage) }
	case "source":
		str = func(l *leadflow.Lead) string { return l.FirstTouch.Source }
	case "medium":
		str = func(l *leadflow.Lead) string { return l.FirstTouch.Medium }
	case "campaign":
		str = func(l *leadflow.Lead) string { return l.FirstTouch.Campaign }
	case "employees":
		return func(b []byte, l *leadflow.Lead, _ *leadflow.Event) ([]byte, bool) {
			if l == nil {
				return append(b, tagNull), true
			}
			return appendInt(b, int64(l.Employees)), true
		}, true
	case "unsubscribed", "consent":
		unsub := f == "unsubscribed"
		return func(b []byte, l *leadflow.Lead, _ *leadflow.Event) ([]byte, bool) {
			switch {
			case l == nil:
				return append(b, tagNull), true
			case unsub:
				return appendBool(b, l.Unsubscribed), true
			}
			return appendBool(b, l.Consent), true
		}, true
	default:
		return nil, false
	}
	return func(b []byte, l *leadflow.Lead, _ *leadflow.Event) ([]byte, bool) {
		if l == nil {
			return append(b, tagNull), true
		}
		return appendString(b, str(l)), true
	}, true
}

// scoreThreshold finds N in `score >= N` (or `score > N`, `N <= score`),
// also inside && and ||; with several, the lowest.
func scoreThreshold(e celast.Expr) (float64, bool) {
	if e.Kind() != celast.CallKind {
		return 0, false
	}
	c := e.AsCall()
	args := c.Args()
	switch c.FunctionName() {
	case operators.LogicalAnd, operators.LogicalOr:
		best, found := 0.0, false
		for _, a := range args {
			if t, ok := scoreThreshold(a); ok && (!found || t < best) {
				best, found = t, true
			}
		}
		return best, found
	case operators.GreaterEquals, operators.Greater:
		if len(args) == 2 && isIdent(args[0], "score") {
			return literalNumber(args[1])
		}
	case operators.LessEquals, operators.Less:
		if len(args) == 2 && isIdent(args[1], "score") {
			return literalNumber(args[0])
		}
	}
	return 0, false
}

func isIdent(e celast.Expr, name string) bool {
	return e.Kind() == celast.IdentKind && e.AsIdent() == name
}

func literalNumber(e celast.Expr) (float64, bool) {
	if e.Kind() != celast.LiteralKind {
		return 0, false
	}
	switch v := e.AsLiteral().(type) {
	case types.Int:
		return float64(v), true
	case types.Uint:
		return float64(v), true
	case types.Double:
		return float64(v), true
	}
	return 0, false
}
