package routing

import (
	"github.com/google/cel-go/cel"

	"github.com/leadflow/leadflow/internal/leadcel"
)

// UnknownTimelineDays is lead.bant.timeline_days when no timeline is known
// (as in the scoring model), so that `timeline_days <= 30` is false.
const UnknownTimelineDays = leadcel.UnknownTimelineDays

// celCostLimit keeps a pathological condition from hanging routing.
const celCostLimit = leadcel.CostLimit

// newEnv builds the environment of routing conditions: one variable, lead,
// with the scoring model's fields plus score, owner and team, which routing
// often needs. Keep in sync with docs/routing.md.
func newEnv() (*cel.Env, error) {
	return leadcel.NewEnv(leadcel.Config{LeadFields: leadcel.ScoreOwnerTeam, TraitsAlwaysSet: true})
}

// eval runs a condition; any runtime error (a missing trait, a wrong type,
// the cost limit) counts as false so that one odd lead cannot stop routing.
func eval(prg cel.Program, lead *leadcel.Lead) bool {
	return leadcel.Eval(prg, leadcel.Activation{Lead: lead})
}
