package scoring

import (
	"maps"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/leadcel"
)

// StageSet records the model's stage rules for one lead at one moment: a
// stage is present when the model defines a rule for it, and true when
// that rule holds. lifecycle.Advance decides what to do with it.
type StageSet map[leadflow.Stage]bool

// Holds reports whether the model defines a rule for s and it holds.
func (s StageSet) Holds(st leadflow.Stage) bool { return s[st] }

// Defined reports whether the model defines a rule for s.
func (s StageSet) Defined(st leadflow.Stage) bool {
	_, ok := s[st]
	return ok
}

// Stages evaluates the stage rules (mql, sal, sql, hql) for lead with
// score r. ev is the event that caused the re-evaluation, or nil (a BANT
// update, a rescore), in which case rules see an empty event whose type
// and name are "". A rule whose evaluation fails does not hold.
func (m *Model) Stages(lead *leadflow.Lead, r Result, ev *leadflow.Event, now time.Time) StageSet {
	var cl leadcel.Lead
	var ce celEvent
	cl.Set(lead, now)
	ce.set(ev)
	act := &activation{lead: &cl, event: &ce, score: r.Score, fitScore: r.Fit, behaviorScr: r.Behavior}
	set := StageSet{}
	for i, rule := range m.stages {
		if rule != nil {
			set[ruleStages[i]] = eval(rule.prg, act)
		}
	}
	return set
}

// StageRule returns the condition of the model's rule for stage s, for
// "why is this lead here" texts; "" when the model has none.
func (m *Model) StageRule(s leadflow.Stage) string {
	for i, rs := range ruleStages {
		if rs == s && m.stages[i] != nil {
			return m.stages[i].when
		}
	}
	return ""
}

// Thresholds returns, per stage, the numeric score threshold found in its
// rule: N in `score >= N` or `score > N`, also inside && and || (the lowest
// when there are several). Stages without one (e.g. a BANT-only hql rule)
// are absent.
func (m *Model) Thresholds() map[leadflow.Stage]float64 {
	return maps.Clone(m.thresholds)
}

// NextStage returns the lowest stage above current whose threshold the
// score has not reached, with the points needed; nil when there is none or
// when automatic moves never leave current (disqualified, opportunity,
// customer).
func (m *Model) NextStage(current leadflow.Stage, score float64) *NextStage {
	switch current {
	case leadflow.StageDisqualified, leadflow.StageOpportunity, leadflow.StageCustomer:
		return nil
	}
	for _, s := range ruleStages {
		if s.Rank() <= current.Rank() {
			continue
		}
		if t, ok := m.thresholds[s]; ok && score < t {
			return &NextStage{Stage: string(s), Threshold: t, PointsNeeded: round2(t - score)}
		}
	}
	return nil
}

// Expired is the outcome of an expiry rule: move the lead To, with Reason.
type Expired struct {
	Rule   string         `json:"rule"`
	To     leadflow.Stage `json:"to"`
	Reason string         `json:"reason,omitempty"`
}

// Expiry evaluates the expiry rules for a lead that entered its current
// stage at enteredAt: the first rule (in file order) for that stage whose
// `after` has passed by now and whose condition holds, given score r.
func (m *Model) Expiry(lead *leadflow.Lead, r Result, enteredAt, now time.Time) (Expired, bool) {
	if lead == nil {
		return Expired{}, false
	}
	var cl leadcel.Lead
	var act *activation
	for _, x := range m.expiry {
		if x.stage != lead.Stage || now.Sub(enteredAt) < x.after.D {
			continue
		}
		if act == nil {
			cl.Set(lead, now)
			act = &activation{lead: &cl, score: r.Score, fitScore: r.Fit, behaviorScr: r.Behavior}
		}
		if eval(x.prg, act) {
			return Expired{Rule: x.id, To: x.to, Reason: x.reason}, true
		}
	}
	return Expired{}, false
}

// ExpiryAfter returns the shortest `after` of the expiry rules for stage
// s, so a scheduler knows when to first check a lead that entered s.
func (m *Model) ExpiryAfter(s leadflow.Stage) (time.Duration, bool) {
	var d time.Duration
	found := false
	for _, x := range m.expiry {
		if x.stage == s && (!found || x.after.D < d) {
			d, found = x.after.D, true
		}
	}
	return d, found
}
