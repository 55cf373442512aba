package gen

import (
	"math"
	"time"

	"github.com/leadflow/leadflow"
)

// The hidden rule. It is deliberately close to, but not the same as, the
// default scoring model of PRODUCT.md: other weights, caps, and a smooth
// exponential decay instead of steps, so a backtest of the default model
// recovers the hidden threshold only approximately, as with real data.

// Behaviour rules of the hidden rule.
const (
	ruleNone = iota - 1
	rulePage
	rulePricing
	ruleProduct
	ruleDownload
	ruleSeminar
	ruleEmailOpen
	ruleEmailClick
	ruleHandRaise
	ruleUnsubscribe
	nRules
)

// hiddenPoints and hiddenCaps: points per event and the cap of each rule.
var (
	hiddenPoints = [nRules]float64{0.5, 6, 2, 8, 12, 0.5, 2, 30, -20}
	hiddenCaps   = [nRules]float64{6, 24, 12, 24, 24, 3, 8, 30, 0}
)

// hiddenHalfLife is the half-life of behaviour points.
const hiddenHalfLife = 60 * 24 * time.Hour

// mqlShare: a lead "really" became an MQL when its score first reached this
// share of the hidden threshold.
const mqlShare = 0.8

var hiddenIndustry = map[string]float64{
	IndustryManufacturing: 12, IndustryIT: 12, IndustryFinance: 10, IndustryHealthcare: 6,
	IndustryRetail: 4, IndustryGovernment: 2, IndustryEducation: 0, IndustryOther: 0,
}

var hiddenSeniority = [...]float64{
	senUnknown: 0, senStudent: -25, senStaff: 2, senLead: 5,
	senManager: 10, senDirector: 15, senExecutive: 18,
}

// hiddenFit is the fit half of the hidden rule.
func hiddenFit(industry string, employees, seniority int, freeMail, foreign bool) float64 {
	f := hiddenIndustry[industry] + hiddenSeniority[seniority]
	switch {
	case employees >= 1000:
		f += 14
	case employees >= 300:
		f += 10
	case employees >= 100:
		f += 7
	case employees >= 30:
		f += 3
	}
	if freeMail {
		f -= 10
	}
	if foreign {
		f -= 5
	}
	return f
}

// truth follows a lead's hidden score through its events, in time order.
type truth struct {
	threshold, mqlLevel float64
	fit                 float64
	acc                 [nRules]float64
	last                int64 // unix seconds the accumulators are valued at
	peak                float64
	peakAt              int64
	crossAt, mqlAt      int64 // first time at or above threshold / MQL level; 0 if never
}

func (t *truth) reset(fit, threshold float64) {
	*t = truth{threshold: threshold, mqlLevel: mqlShare * threshold, fit: fit, peak: math.Inf(-1)}
}

var decayPerSecond = math.Ln2 / hiddenHalfLife.Seconds()

// decayStep: events closer than this to the last decay share its value
// (the error is under 0.1%); it saves an exp per event inside a session.
const decayStep = 3600

// observe records an event at unix time at that counts for rule.
func (t *truth) observe(at int64, rule int) {
	if t.last == 0 {
		t.last = at
	} else if dt := at - t.last; dt >= decayStep {
		f := math.Exp(-float64(dt) * decayPerSecond)
		for i := range nRules {
			t.acc[i] *= f
		}
		t.last = at
	}
	if rule != ruleNone {
		t.acc[rule] += hiddenPoints[rule]
		if rule == rulePricing || rule == ruleProduct {
			t.acc[rulePage] += hiddenPoints[rulePage]
		}
	}
	s := t.fit
	for i := range nRules {
		if a := t.acc[i]; a < hiddenCaps[i] {
			s += a
		} else {
			s += hiddenCaps[i]
		}
	}
	if s > t.peak {
		t.peak, t.peakAt = s, at
	}
	if t.mqlAt == 0 && s >= t.mqlLevel {
		t.mqlAt = at
	}
	if t.crossAt == 0 && s >= t.threshold {
		t.crossAt = at
	}
}

// Funnel rates of the hidden rule.
const (
	pSQLAbove = 0.60 // P(SQL) for TrueScore >= threshold
	pSQLBelow = 0.05 // P(SQL) otherwise
	pOpp      = 0.50 // P(opportunity | SQL)
	pWon      = 0.35 // P(won | opportunity); the rest are lost
)

const (
	hour = int64(3600)
	day  = 24 * hour
)

// outcome draws rec.Outcome from the truth; hi is the end of the history.
// Stages that would happen after hi are left nil: they have not happened yet.
func (t *truth) outcome(r *rng, rec *Record, hi int64, employees, seniority int) {
	o := &rec.Outcome
	*o = Outcome{TrueScore: t.peak}
	if len(rec.Events) == 0 {
		o.TrueScore = t.fit
	}
	at := func(slot int, sec int64) *time.Time {
		rec.times[slot] = time.Unix(sec, 0).UTC()
		return &rec.times[slot]
	}
	above := t.peak >= t.threshold
	p := pSQLBelow
	base := t.peakAt
	if above {
		p, base = pSQLAbove, t.crossAt
	}
	// Draw every decision up front: a lead's draws never depend on which of
	// its stages happen to fall before End.
	sql, opp, won := r.chance(p), r.chance(pOpp), r.chance(pWon)
	sqlLag := 10*60 + int64(r.exp(18*float64(hour)))
	oppLag := 2*day + int64(r.exp(14*float64(day)))
	closeLag := 14*day + int64(r.exp(45*float64(day)))
	amount := 800_000 * math.Pow(1+float64(employees)/100, 0.45) * math.Exp(0.4*r.norm())
	budget, authority := r.chance(0.55), seniority >= senManager || r.chance(0.2)
	timeline := 14*day + int64(r.exp(60*float64(day)))

	var sqlAt int64
	if sql && len(rec.Events) > 0 && base+sqlLag <= hi {
		sqlAt = base + sqlLag
		o.SQLAt = at(1, sqlAt)
		o.BANT = leadflow.BANT{Budget: budget || won, Authority: authority, Need: true,
			Timeline: at(5, sqlAt+timeline)}
	}
	switch {
	case t.mqlAt != 0 && (sqlAt == 0 || t.mqlAt <= sqlAt):
		o.MQLAt = at(0, t.mqlAt)
	case sqlAt != 0:
		o.MQLAt = o.SQLAt
	}
	if sqlAt == 0 || !opp || sqlAt+oppLag > hi {
		return
	}
	oppAt := sqlAt + oppLag
	o.OpportunityAt = at(2, oppAt)
	if won {
		if oppAt+closeLag <= hi {
			o.WonAt = at(3, oppAt+closeLag)
			o.Amount = math.Round(amount/10_000) * 10_000
		}
	} else if oppAt+closeLag/2 <= hi {
		o.LostAt = at(4, oppAt+closeLag/2)
	}
}
