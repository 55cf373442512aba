package scoring

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// maxExplainedEvents bounds the events listed per rule in an explanation
// (the newest are kept); the score itself always counts every event.
const maxExplainedEvents = 20

// Result is a lead's score as of one moment.
type Result struct {
	Score    float64 `json:"score"` // Fit + Behavior, rounded to 2 decimals
	Fit      float64 `json:"fit_score"`
	Behavior float64 `json:"behavior_score"`
	// Explanation says where every point came from.
	Explanation Explanation `json:"explanation"`
	// NextChange is when decay will next change the score (the first whole
	// second after an event crosses a decay step; for half-life decay, when
	// the decayed behavior will have lost 1 point or 1%, whichever is more).
	// The score may turn out unchanged then when a cap absorbs the change;
	// rescoring gives the following NextChange. Zero: decay will not change
	// the score again.
	NextChange time.Time `json:"next_change,omitzero"`
}

// Explanation is the JSON-ready account of a score, shown in the lead page,
// handoff notifications and `leadflow lead explain`.
type Explanation struct {
	Score         float64           `json:"score"`
	FitScore      float64           `json:"fit_score"`
	BehaviorScore float64           `json:"behavior_score"`
	AsOf          time.Time         `json:"as_of"`
	Model         string            `json:"model,omitempty"`
	Fit           []FitHit          `json:"fit"`
	Behavior      []BehaviorExplain `json:"behavior"`
	// NextStage is filled by Model.NextStage; Score leaves it nil because it
	// does not know the lead's stage.
	NextStage *NextStage `json:"next_stage,omitempty"`
}

// BehaviorExplain is one behavior rule's contribution.
type BehaviorExplain struct {
	Rule      string   `json:"rule"`
	When      string   `json:"when"`
	Points    float64  `json:"points"`     // what the rule adds to the score
	RawPoints float64  `json:"raw_points"` // Σ points × decay factor, before the cap
	Max       *float64 `json:"max,omitempty"`
	Capped    bool     `json:"capped"`
	// EventCount is the number of events behind the rule; Events lists the
	// newest of them (at most 20).
	EventCount int            `json:"event_count"`
	Events     []EventExplain `json:"events"`
}

// EventExplain is one event behind a behavior rule.
type EventExplain struct {
	EventID  int64     `json:"event_id"`
	Name     string    `json:"name"`
	At       time.Time `json:"at"`
	Points   float64   `json:"points"`
	Factor   float64   `json:"factor"`   // decay factor for the event's age
	Weighted float64   `json:"weighted"` // Points × Factor
}

// NextStage says how far the score is from the next stage with a numeric
// threshold ("points to next stage").
type NextStage struct {
	Stage        string  `json:"stage"`
	Threshold    float64 `json:"threshold"`
	PointsNeeded float64 `json:"points_needed"`
}

// round2 rounds to 2 decimals, the precision every score is shown with.
func round2(x float64) float64 {
	r := math.Round(x*100) / 100
	if r == 0 {
		return 0 // no -0 in JSON
	}
	return r
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

type rankedHit struct {
	r *rule
	h Hit
}

// Score computes a lead's score as of now from its fit hits and behavior
// hits:
//
//	score = Σ fit points + Σ over behavior rules of min(max, Σ points × decay)
//
// The cap (max) bounds a rule's positive total only: a negative rule (an
// unsubscribe) always counts in full. Hits are sorted before summing, so
// the result does not depend on their order; a hit repeated with the same
// rule and non-zero event id counts once, so replaying events is
// idempotent. Hits and fit hits of rules the model does not have (from an
// older model version) are ignored. The inputs are not modified.
func (m *Model) Score(fit []FitHit, hits []Hit, now time.Time) Result {
	ex := Explanation{AsOf: now, Model: m.Name, Fit: make([]FitHit, 0, len(fit)), Behavior: []BehaviorExplain{}}
	res, _, _ := m.score(fit, hits, now, &ex, nil, nil)
	ex.Score, ex.FitScore, ex.BehaviorScore = res.Score, res.Fit, res.Behavior
	res.Explanation = ex
	return res
}

// Score is Model.Score without the explanation (Result.Explanation is
// zero), reusing the Matcher's buffers: what a bulk rescore needs. The
// totals and NextChange are exactly Model.Score's.
func (mt *Matcher) Score(fit []FitHit, hits []Hit, now time.Time) Result {
	var res Result
	res, mt.fitBuf, mt.rankBuf = mt.m.score(fit, hits, now, nil, mt.fitBuf[:0], mt.rankBuf[:0])
	return res
}

// score computes the totals; with ex it also fills the explanation. fits
// and rh are scratch buffers (may be nil) returned for reuse.
func (m *Model) score(fit []FitHit, hits []Hit, now time.Time, ex *Explanation, fits []FitHit, rh []rankedHit) (Result, []FitHit, []rankedHit) {
	if fits == nil {
		fits = make([]FitHit, 0, len(fit))
	}
	for _, f := range fit {
		if r, ok := m.byID[f.Rule]; ok && r.kind == envFit {
			fits = append(fits, f)
		}
	}
	if len(fits) > 1 {
		slices.SortFunc(fits, func(a, b FitHit) int {
			return cmp.Or(cmp.Compare(m.byID[a.Rule].index, m.byID[b.Rule].index), cmp.Compare(a.Points, b.Points))
		})
		fits = slices.CompactFunc(fits, func(a, b FitHit) bool { return a.Rule == b.Rule })
	}
	var fitSum float64
	for _, f := range fits {
		fitSum += f.Points
		if ex != nil {
			ex.Fit = append(ex.Fit, FitHit{Rule: f.Rule, When: m.byID[f.Rule].when, Points: f.Points})
		}
	}

	if rh == nil {
		rh = make([]rankedHit, 0, len(hits))
	}
	for _, h := range hits {
		if r, ok := m.byID[h.Rule]; ok && r.kind == envBehavior {
			rh = append(rh, rankedHit{r, h})
		}
	}
	cmpHits := func(a, b rankedHit) int {
		return cmp.Or(
			cmp.Compare(a.r.index, b.r.index),
			a.h.At.Compare(b.h.At),
			cmp.Compare(a.h.EventID, b.h.EventID),
			cmp.Compare(a.h.Points, b.h.Points),
			cmp.Compare(a.h.EventName, b.h.EventName),
		)
	}
	if !slices.IsSortedFunc(rh, cmpHits) {
		slices.SortFunc(rh, cmpHits)
	}
	rh = slices.CompactFunc(rh, func(a, b rankedHit) bool {
		return a.r == b.r && a.h.EventID != 0 && a.h.EventID == b.h.EventID
	})

	var behSum, decayed float64
	var next time.Time
	// One backing array each for the events and caps of all rules.
	var events []EventExplain
	var maxes []float64
	if ex != nil {
		events = make([]EventExplain, 0, min(len(rh), maxExplainedEvents*len(m.behavior)))
		maxes = make([]float64, 0, len(m.behavior))
		if len(rh) > 0 {
			ex.Behavior = make([]BehaviorExplain, 0, len(m.behavior))
		}
	}
	for i := 0; i < len(rh); {
		r := rh[i].r
		j := i
		for j < len(rh) && rh[j].r == r {
			j++
		}
		be := BehaviorExplain{Rule: r.id, When: r.when, EventCount: j - i}
		start := len(events)
		var raw float64
		for k := j - 1; k >= i; k-- { // newest first
			h := rh[k].h
			f := m.decay.Factor(now.Sub(h.At))
			w := h.Points * f
			raw += w
			decayed += math.Abs(w)
			if h.Points != 0 && len(m.decay.Steps) > 0 {
				if t := m.decay.nextStep(h.At, now); !t.IsZero() && (next.IsZero() || t.Before(next)) {
					next = t
				}
			}
			if ex != nil && len(events)-start < maxExplainedEvents {
				events = append(events, EventExplain{EventID: h.EventID, Name: h.EventName, At: h.At,
					Points: h.Points, Factor: round4(f), Weighted: round2(w)})
			}
		}
		contrib := raw
		if r.hasMax && raw > r.max {
			contrib, be.Capped = r.max, true
		}
		behSum += contrib
		if ex != nil {
			be.Events = events[start:len(events):len(events)]
			if r.hasMax {
				maxes = append(maxes, r.max)
				be.Max = &maxes[len(maxes)-1]
			}
			be.RawPoints, be.Points = round2(raw), round2(contrib)
			ex.Behavior = append(ex.Behavior, be)
		}
		i = j
	}
	if m.decay.HalfLife.D > 0 {
		next = m.decay.nextHalfLife(decayed, now)
	}

	res := Result{Fit: round2(fitSum), Behavior: round2(behSum), NextChange: next}
	res.Score = round2(res.Fit + res.Behavior)
	return res, fits, rh
}
