package analytics

import (
	"math"
	"slices"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/scoring"
)

// replayer scores one lead's events in time order under one model,
// incrementally: the score after each instant with events is
//
//	fit + Σ over behavior rules of min(max, Σ points × decay factor as of that instant)
//
// which is scoring.Model.Score as of the event's time, without re-summing
// every earlier hit (a lead with 10,000 events costs 10,000 updates, not
// 50 million). Step decay keeps, per rule and step, the sum of the points
// already older than the step; a half life keeps the decayed sum.
type replayer struct {
	m       *scoring.Model
	mt      *scoring.Matcher
	index   map[string]int // behavior rule id → position
	max     []float64
	hasMax  []bool
	steps   []int64   // step decay: OlderThan in microseconds
	dfactor []float64 // factor_b − factor_(b−1), factor_(−1) = 1
	half    float64   // half life in microseconds; 0 for steps
	rules   []ruleState
	hits    []scoring.Hit
	fit     []scoring.FitHit
	// sigHits are each compact signature's hits, when the behavior rules
	// read the event alone (scoring.Model.EventOnly); nil otherwise.
	sigHits map[int64][]ruleHit
	fitSum  float64

	// levels are the score thresholds followed, ascending; cross[i] is when
	// the score first reached levels[i] (unix µs), 0 if never.
	levels []float64
	cross  []int64
	next   int // first level not reached yet
	peak   float64
}

type ruleState struct {
	at    []int64
	pts   []float64
	total float64
	ptr   []int     // per step: hits before ptr[b] are older than steps[b]
	older []float64 // per step: Σ points of those hits
	value float64   // half life: decayed sum as of last
	last  int64
}

func newReplayer(m *scoring.Model, levels []float64) *replayer {
	r := &replayer{m: m, mt: m.NewMatcher(), index: map[string]int{}, levels: levels, cross: make([]int64, len(levels))}
	if m.EventOnly() {
		r.sigHits = map[int64][]ruleHit{}
	}
	for _, rule := range m.Rules() {
		if rule.Section != "behavior" {
			continue
		}
		r.index[rule.ID] = len(r.max)
		if rule.Max != nil {
			r.max, r.hasMax = append(r.max, *rule.Max), append(r.hasMax, true)
		} else {
			r.max, r.hasMax = append(r.max, 0), append(r.hasMax, false)
		}
	}
	d := m.Decay()
	if d.HalfLife.D > 0 {
		r.half = float64(d.HalfLife.D / time.Microsecond)
	}
	prev := 1.0
	for _, s := range d.Steps {
		r.steps = append(r.steps, int64(s.OlderThan.D/time.Microsecond))
		r.dfactor = append(r.dfactor, s.Factor-prev)
		prev = s.Factor
	}
	r.rules = make([]ruleState, len(r.max))
	for i := range r.rules {
		r.rules[i].ptr = make([]int, len(r.steps))
		r.rules[i].older = make([]float64, len(r.steps))
	}
	return r
}

// start begins a lead: its fit (from its current attributes, as of asOf).
func (r *replayer) start(l *leadflow.Lead, asOf time.Time) {
	for i := range r.rules {
		s := &r.rules[i]
		s.at, s.pts, s.total, s.value, s.last = s.at[:0], s.pts[:0], 0, 0, 0
		clear(s.ptr)
		clear(s.older)
	}
	clear(r.cross)
	r.next, r.peak = 0, math.Inf(-1)
	r.fit = r.mt.Fit(l, asOf, r.fit[:0])
	r.fitSum = 0
	for _, f := range r.fit {
		r.fitSum += f.Points
	}
}

// add matches one event (at unix µs ts) and records its hits.
func (r *replayer) add(l *leadflow.Lead, ev *leadflow.Event, ts int64) {
	r.hits = r.mt.Match(l, ev, r.hits[:0])
	for _, h := range r.hits {
		if i, ok := r.index[h.Rule]; ok {
			r.addHit(i, h.Points, ts)
		}
	}
}

// ruleHit is one behavior rule an event matches: its position and points.
type ruleHit struct {
	rule int
	pts  float64
}

// addSig records the hits of an event of compact signature sig, matching
// ev (built by the caller only when asked) once per signature when the
// model's behavior rules read the event alone (sigHits is set).
func (r *replayer) addSig(sig int64, l *leadflow.Lead, ev func() *leadflow.Event, ts int64) {
	hs, ok := r.sigHits[sig]
	if !ok {
		r.hits = r.mt.Match(l, ev(), r.hits[:0])
		hs = make([]ruleHit, 0, len(r.hits))
		for _, h := range r.hits {
			if i, ok := r.index[h.Rule]; ok {
				hs = append(hs, ruleHit{i, h.Points})
			}
		}
		if len(r.sigHits) >= 1<<14 {
			clear(r.sigHits) // bounded, like the matcher's memo
		}
		r.sigHits[sig] = hs
	}
	for _, h := range hs {
		r.addHit(h.rule, h.pts, ts)
	}
}

func (r *replayer) addHit(i int, pts float64, ts int64) {
	s := &r.rules[i]
	if r.half > 0 {
		s.decayTo(ts, r.half)
		s.value += pts
		return
	}
	s.at, s.pts = append(s.at, ts), append(s.pts, pts)
	s.total += pts
}

func (s *ruleState) decayTo(ts int64, half float64) {
	if s.last != 0 && ts > s.last && s.value != 0 {
		s.value *= math.Exp2(-float64(ts-s.last) / half)
	}
	if ts > s.last {
		s.last = ts
	}
}

// eval computes the score as of ts (after every event up to ts was added)
// and follows the peak and the threshold crossings.
func (r *replayer) eval(ts int64) float64 {
	var beh float64
	for i := range r.rules {
		s := &r.rules[i]
		var raw float64
		if r.half > 0 {
			s.decayTo(ts, r.half)
			raw = s.value
		} else {
			raw = s.total
			for b, older := range r.steps {
				for s.ptr[b] < len(s.at) && ts-s.at[s.ptr[b]] > older {
					s.older[b] += s.pts[s.ptr[b]]
					s.ptr[b]++
				}
				raw += s.older[b] * r.dfactor[b]
			}
		}
		if r.hasMax[i] && raw > r.max[i] {
			raw = r.max[i]
		}
		beh += raw
	}
	// Rounded as scoring.Model.Score rounds: fit, behavior, then the sum.
	score := round2(round2(r.fitSum) + round2(beh))
	if score > r.peak {
		r.peak = score
		for r.next < len(r.levels) && score >= r.levels[r.next] {
			r.cross[r.next] = ts
			r.next++
		}
	}
	return score
}

// levelsOf returns the sorted unique union of thresholds.
func levelsOf(ts ...[]float64) []float64 {
	var out []float64
	for _, t := range ts {
		out = append(out, t...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
