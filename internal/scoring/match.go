package scoring

import (
	"math/bits"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/leadcel"
)

// maxMemoEntries bounds each rule group's memo; when full it starts over.
const maxMemoEntries = 1 << 14

// Hit is one event matched by one behavior rule. Hits are what storage
// keeps per lead; Score turns them into a score as of any time.
type Hit struct {
	Rule      string    `json:"rule"`
	EventID   int64     `json:"event_id"`
	EventName string    `json:"event_name"`
	At        time.Time `json:"at"`
	Points    float64   `json:"points"`
}

// FitHit is one fit rule that holds for a lead.
type FitHit struct {
	Rule   string  `json:"rule"`
	When   string  `json:"when"`
	Points float64 `json:"points"`
}

// Fit returns the fit rules that hold for lead, in model order, with their
// points. now is used for lead.bant.timeline_days.
func (m *Model) Fit(lead *leadflow.Lead, now time.Time) []FitHit {
	var cl leadcel.Lead
	cl.Set(lead, now)
	act := &activation{lead: &cl}
	var out []FitHit
	for _, r := range m.fit {
		if eval(r.prg, act) {
			out = append(out, FitHit{Rule: r.id, When: r.when, Points: r.points})
		}
	}
	return out
}

// Matcher finds the behavior rules an event matches (and the fit rules a
// lead matches). It evaluates each rule once per distinct value of the
// fields the rule reads (for the default model: event.name, or event.type
// with event.properties.path) and remembers the answer, so that replaying
// millions of events costs a map lookup per rule group and event. A group
// whose memo rarely hits (say, rules on lead.email) stops memoizing for a
// while. A Matcher is not safe for concurrent use; make one per goroutine
// with Model.NewMatcher.
type Matcher struct {
	m        *Model
	behavior memo
	fit      memo
	buf      []byte
	match    []uint64 // bitmask over the rules of the current call
	lead     leadcel.Lead
	event    celEvent
	act      activation
	loaded   bool
	fitEvent leadflow.Event // carries now for fit keyers (timeline_days)
	// Score's and Stages' scratch and memo.
	fitBuf  []FitHit
	rankBuf []rankedHit
	stages  stageMemo
}

// Memo tuning: every memoProbe lookups a group's hit rate is checked; below
// 1/4 the group evaluates directly for memoPause evaluations, then tries again.
const (
	memoProbe = 4096
	memoPause = 1 << 16
)

// memo is the per-group memo of one rule kind.
type memo struct {
	groups  []*group
	maps    []map[string]uint64 // key -> bitmask of the group's rules that hold
	lookups []int
	hits    []int
	paused  []int // evaluations left before memoizing again
}

func newMemo(gs []*group) memo {
	mm := memo{groups: gs, maps: make([]map[string]uint64, len(gs)),
		lookups: make([]int, len(gs)), hits: make([]int, len(gs)), paused: make([]int, len(gs))}
	for i := range mm.maps {
		mm.maps[i] = map[string]uint64{}
	}
	return mm
}

// NewMatcher returns a Matcher with an empty memo.
func (m *Model) NewMatcher() *Matcher {
	return &Matcher{
		m:        m,
		behavior: newMemo(m.groups),
		fit:      newMemo(m.fitGroups),
		match:    make([]uint64, (max(len(m.behavior), len(m.fit))+63)/64),
	}
}

// Match appends to dst a Hit for every behavior rule ev matches, in model
// order, and returns dst. lead.bant.timeline_days is counted from the
// event's time. A rule whose evaluation fails (a missing key, a wrong
// type) does not match.
func (mt *Matcher) Match(lead *leadflow.Lead, ev *leadflow.Event, dst []Hit) []Hit {
	if ev == nil || len(mt.m.behavior) == 0 {
		return dst
	}
	mt.loaded = false
	mt.run(&mt.behavior, lead, ev, ev.Timestamp, true)
	var name string
	for w, word := range mt.match {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			word &= word - 1
			r := mt.m.behavior[w*64+i]
			if name == "" {
				name = eventName(ev)
			}
			dst = append(dst, Hit{Rule: r.id, EventID: ev.ID, EventName: name, At: ev.Timestamp, Points: r.points})
		}
	}
	return dst
}

// Fit is Model.Fit with the Matcher's memo, appending to dst: rescoring
// many leads evaluates a rule like `lead.industry in [...]` once per
// industry.
func (mt *Matcher) Fit(lead *leadflow.Lead, now time.Time, dst []FitHit) []FitHit {
	if len(mt.m.fit) == 0 {
		return dst
	}
	mt.loaded = false
	mt.fitEvent.Timestamp = now
	mt.run(&mt.fit, lead, &mt.fitEvent, now, false)
	for w, word := range mt.match {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			word &= word - 1
			r := mt.m.fit[w*64+i]
			dst = append(dst, FitHit{Rule: r.id, When: r.when, Points: r.points})
		}
	}
	return dst
}

// run evaluates the groups of mm, setting mt.match bits at rule indexes.
func (mt *Matcher) run(mm *memo, lead *leadflow.Lead, ev *leadflow.Event, at time.Time, withEvent bool) {
	clear(mt.match)
	for gi, g := range mm.groups {
		var set uint64
		switch {
		case !g.memo:
			set = mt.evalGroup(g, lead, ev, at, withEvent)
		case mm.paused[gi] > 0:
			mm.paused[gi]--
			set = mt.evalGroup(g, lead, ev, at, withEvent)
		default:
			key, ok := mt.key(g, lead, ev)
			if !ok {
				set = mt.evalGroup(g, lead, ev, at, withEvent)
				break
			}
			mm.lookups[gi]++
			if b, hit := mm.maps[gi][string(key)]; hit {
				set = b
				mm.hits[gi]++
			} else {
				set = mt.evalGroup(g, lead, ev, at, withEvent)
				if len(mm.maps[gi]) >= maxMemoEntries {
					clear(mm.maps[gi])
				}
				mm.maps[gi][string(key)] = set
			}
			if mm.lookups[gi] == memoProbe {
				if mm.hits[gi] < memoProbe/4 {
					mm.paused[gi] = memoPause
					clear(mm.maps[gi])
				}
				mm.lookups[gi], mm.hits[gi] = 0, 0
			}
		}
		for set != 0 {
			i := bits.TrailingZeros64(set)
			set &= set - 1
			idx := g.rules[i].index
			mt.match[idx/64] |= 1 << (idx % 64)
		}
	}
}

// key builds the memo key of group g into the Matcher's buffer.
func (mt *Matcher) key(g *group, lead *leadflow.Lead, ev *leadflow.Event) ([]byte, bool) {
	buf := mt.buf[:0]
	ok := true
	for _, k := range g.keyers {
		if buf, ok = k(buf, lead, ev); !ok {
			break
		}
	}
	mt.buf = buf
	return buf, ok
}

// evalGroup evaluates every rule of g; bit i is set when g.rules[i] holds.
func (mt *Matcher) evalGroup(g *group, lead *leadflow.Lead, ev *leadflow.Event, at time.Time, withEvent bool) uint64 {
	if !mt.loaded {
		mt.lead.Set(lead, at)
		mt.act = activation{lead: &mt.lead}
		if withEvent {
			mt.event.set(ev)
			mt.act.event = &mt.event
		}
		mt.loaded = true
	}
	var set uint64
	for i, r := range g.rules {
		if eval(r.prg, &mt.act) {
			set |= 1 << i
		}
	}
	return set
}

// eventName is what an explanation calls an event: its name, else the
// page path, else its type.
func eventName(ev *leadflow.Event) string {
	if ev.Name != "" {
		return ev.Name
	}
	if p, ok := ev.Properties["path"].(string); ok && p != "" {
		return p
	}
	return string(ev.Type)
}
