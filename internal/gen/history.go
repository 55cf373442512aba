package gen

import (
	"time"

	"github.com/leadflow/leadflow"
)

// saltHistory keeps the history's own draws (the SAL time) apart from the
// outcome's, so adding the history changed no existing outcome.
const saltHistory = 0x68697374 // "hist"

// HistoryCause is the cause of every generated stage change: the system
// loaded it, no person or API client made it (so no change counts as a
// sales rejection in the KPIs).
const HistoryCause = "system:gen"

// Step is one stage change of a lead's generated history.
type Step struct {
	From, To leadflow.Stage
	At       time.Time
	Reason   string
}

// Deal is the CRM deal of a lead that became an opportunity: open, won
// (with its amount in JPY) or lost, as of the history's end.
type Deal struct {
	Status string // open, won or lost
	Amount float64
	Reason string
	At     time.Time
}

// History returns what sales and the CRM did with the lead, as stage
// changes in time order, and its deal (nil when it never became an
// opportunity): MQL when its hidden score first reached the MQL level, SAL
// (accepted by sales) between MQL and SQL, SQL, opportunity, then customer
// for a won deal or recycled for a lost one. A lead that reached SQL at
// its MQL moment skips MQL and SAL (an inquiry straight to SQL). The last
// step's stage is the lead's stage at the end of the history.
//
// It is deterministic: the same Config gives the same history. The
// returned slice is reused by the next call on the same Record.
func (r *Record) History() ([]Step, *Deal) {
	o := &r.Outcome
	r.steps = r.steps[:0]
	prev := leadflow.StageLead
	step := func(to leadflow.Stage, at time.Time, reason string) {
		r.steps = append(r.steps, Step{From: prev, To: to, At: at, Reason: reason})
		prev = to
	}
	if o.MQLAt != nil && (o.SQLAt == nil || o.MQLAt.Before(*o.SQLAt)) {
		step(leadflow.StageMQL, *o.MQLAt, "")
		if o.SQLAt != nil {
			// Accepted somewhere in the first half of the way to SQL, at
			// least a minute after MQL and before SQL.
			rng := newRNG(r.seed, saltHistory, uint64(r.Lead.ID))
			gap := o.SQLAt.Sub(*o.MQLAt)
			sal := o.MQLAt.Add(time.Minute + time.Duration(rng.float()*0.5*float64(gap))).Truncate(time.Second)
			if sal.Before(*o.SQLAt) {
				step(leadflow.StageSAL, sal, "")
			}
		}
	}
	if o.SQLAt != nil {
		step(leadflow.StageSQL, *o.SQLAt, "")
	}
	if o.OpportunityAt == nil {
		return r.steps, nil
	}
	step(leadflow.StageOpportunity, *o.OpportunityAt, "")
	d := &r.deal
	*d = Deal{Status: "open", At: *o.OpportunityAt}
	switch {
	case o.WonAt != nil:
		step(leadflow.StageCustomer, *o.WonAt, "deal won")
		d.Status, d.Amount, d.At = "won", o.Amount, *o.WonAt
	case o.LostAt != nil:
		step(leadflow.StageRecycled, *o.LostAt, "deal lost: competitor chosen")
		d.Status, d.Reason, d.At = "lost", "competitor chosen", *o.LostAt
	}
	return r.steps, d
}
