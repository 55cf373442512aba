package leadflow

import "encoding/json"

// Stage is a lifecycle stage of a lead.
type Stage string

// Stages in funnel order, then the two side states.
const (
	StageLead         Stage = "lead"
	StageMQL          Stage = "mql"
	StageSAL          Stage = "sal"
	StageSQL          Stage = "sql"
	StageHQL          Stage = "hql"
	StageOpportunity  Stage = "opportunity"
	StageCustomer     Stage = "customer"
	StageRecycled     Stage = "recycled"
	StageDisqualified Stage = "disqualified"
)

// FunnelStages lists the forward stages in order.
var FunnelStages = []Stage{StageLead, StageMQL, StageSAL, StageSQL, StageHQL, StageOpportunity, StageCustomer}

// Rank is the position of s in the funnel; side states rank below lead so an
// automatic rule may move a recycled lead forward again. Unknown stages rank -2.
func (s Stage) Rank() int {
	for i, f := range FunnelStages {
		if f == s {
			return i
		}
	}
	switch s {
	case StageRecycled, StageDisqualified:
		return -1
	}
	return -2
}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return s.Rank() > -2 }

// Transition is one recorded stage change.
type Transition struct {
	ID     int64   `json:"id"`
	LeadID int64   `json:"lead_id"`
	From   Stage   `json:"from"`
	To     Stage   `json:"to"`
	At     Time    `json:"at"`
	Cause  string  `json:"cause"`  // "rule:mql", "model v3", "user:…", "api:key-name"
	Reason string  `json:"reason"` // human text, e.g. a rejection reason
	Score  float64 `json:"score"`
	// Explanation is the score explanation at the time, as JSON.
	Explanation json.RawMessage `json:"explanation,omitempty"`
}
