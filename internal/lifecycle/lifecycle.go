// Package lifecycle decides stage transitions: which automatic move the
// scoring model's stage rules call for, and whether a requested move is
// allowed. It is pure; recording transitions is the flow's job.
//
// Automatic moves (by a stage rule) only go forward, from lead, recycled,
// mql, sal or sql to a higher stage among mql, sal, sql and hql. They never
// leave disqualified, opportunity or customer. Only a person, the API or an
// expiry rule (both "manual" here) moves a lead back, and only to recycled
// or disqualified.
package lifecycle

import (
	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/scoring"
)

// ruleStages are the stages stage rules can move a lead to, highest first.
var ruleStages = []leadflow.Stage{leadflow.StageHQL, leadflow.StageSQL, leadflow.StageSAL, leadflow.StageMQL}

// Advance returns the stage an automatic rule moves the lead to, and the
// rule (the stage name, as "rule:<stage>" is recorded as the cause) — the
// highest stage above current whose rule holds. An inquiry that makes the
// sql rule hold moves a lead straight to sql, or to hql when the hql rule
// holds too, skipping the stages between. sal is a target only when the
// model defines a sal rule (holds carries only the stages it defines).
// ok is false when no rule moves the lead forward.
func Advance(current leadflow.Stage, holds scoring.StageSet) (to leadflow.Stage, rule string, ok bool) {
	if !autoFrom(current) {
		return "", "", false
	}
	for _, s := range ruleStages {
		if holds.Holds(s) && s.Rank() > current.Rank() {
			return s, string(s), true
		}
	}
	return "", "", false
}

// autoFrom reports whether automatic rules may move a lead out of s.
func autoFrom(s leadflow.Stage) bool {
	switch s {
	case leadflow.StageLead, leadflow.StageRecycled, leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL:
		return true
	}
	return false
}

// CanMove checks a transition from → to. manual is true for a person, the
// API, the CRM round trip or an expiry rule; false for a stage rule.
//
// Manual moves may go forward to any stage (an accepted MQL to sal, a deal
// to opportunity, a won deal to customer) and back only to recycled or
// disqualified. Automatic moves follow Advance's rules. Nothing moves to
// lead, the initial stage. Unknown stages are EINVALID; a move the rules
// forbid, or to the current stage, is ECONFLICT.
func CanMove(from, to leadflow.Stage, manual bool) error {
	switch {
	case !from.Valid():
		return leadflow.Errorf(leadflow.EINVALID, "unknown stage %q", from)
	case !to.Valid():
		return leadflow.Errorf(leadflow.EINVALID, "unknown stage %q", to)
	case from == to:
		return leadflow.Errorf(leadflow.ECONFLICT, "the lead is already in stage %s", to)
	case to == leadflow.StageLead:
		return leadflow.Errorf(leadflow.ECONFLICT, "cannot move a lead back to %s; recycle it instead", to)
	}
	if manual {
		if to == leadflow.StageRecycled || to == leadflow.StageDisqualified || to.Rank() > from.Rank() {
			return nil
		}
		return leadflow.Errorf(leadflow.ECONFLICT,
			"cannot move a lead back from %s to %s; a lead goes back only to recycled or disqualified", from, to)
	}
	if !autoFrom(from) {
		return leadflow.Errorf(leadflow.ECONFLICT, "stage rules do not move a lead out of %s", from)
	}
	switch to {
	case leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL:
	default:
		return leadflow.Errorf(leadflow.ECONFLICT, "stage rules move a lead only to mql, sal, sql or hql, not %s", to)
	}
	if to.Rank() <= from.Rank() {
		return leadflow.Errorf(leadflow.ECONFLICT, "stage rules only move a lead forward, not from %s to %s", from, to)
	}
	return nil
}
