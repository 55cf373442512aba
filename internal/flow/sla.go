package flow

import (
	"context"

	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// startSLA starts the SLA clocks of the stage the lead has just entered,
// in the unit's transaction: the open clocks of other stages are closed
// (canceled, or breached when past due), each policy of the new stage gets
// a clock owned by the lead's owner, and its warning and breach timers are
// inserted as scheduled River jobs, committing with the stage change.
// Call it after transition (st.lead.Stage is the new stage) and after
// routing, so that the clocks have the new owner.
func (u *unit) startSLA(ctx context.Context, st *leadState) error {
	pols, err := u.f.caches.sla.Load(ctx, u.tx)
	if err != nil {
		return err
	}
	_, err = sla.Start(ctx, u.tx, pols, st.lead, u.enqueue)
	return err
}

// stopSLA stops the lead's open clocks whose policy has target: a logged
// touch (call, email, meeting) stops first_touch clocks, an accept or a
// reject stops accept clocks. A clock stopped after its deadline is
// recorded as breached. Call it before the transition an accept or a
// reject causes, or that transition closes the clock as canceled instead.
func (u *unit) stopSLA(ctx context.Context, st *leadState, target sla.Target, actor Actor) error {
	pols, err := u.f.caches.sla.Load(ctx, u.tx)
	if err != nil {
		return err
	}
	_, err = sla.Stop(ctx, u.tx, pols, st.lead.ID, target, string(actor))
	return err
}

// reownSLA gives the lead's running clocks to its current owner; call it
// after an assignment (routing or by hand) so compliance counts against
// whoever must act now.
func (u *unit) reownSLA(ctx context.Context, st *leadState) error {
	return u.tx.ReownClocks(ctx, st.lead.ID, st.lead.Owner)
}

// SLAContext is the Data of the SLA notifications: the handoff context of
// the lead (sla.Workers adds the clock under "sla"). It has the signature
// of sla.Workers.Context.
func (f *Flow) SLAContext(ctx context.Context, _ *store.Tx, leadID int64) (map[string]any, error) {
	h, err := f.Handoff(ctx, leadID)
	if err != nil {
		return nil, err
	}
	return h.notification()
}

// slaDeadlines lists the lead's open SLA clocks for the handoff context.
func (f *Flow) slaDeadlines(ctx context.Context, leadID int64) ([]SLADeadline, error) {
	clocks, err := f.db.ClocksOfLead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	out := []SLADeadline{}
	for _, c := range clocks {
		if c.StoppedAt == nil && (c.Status == store.ClockRunning || c.Status == store.ClockBreached) {
			out = append(out, SLADeadline{Policy: c.Policy, Stage: string(c.Stage), Status: c.Status, DueAt: c.DueAt})
		}
	}
	return out, nil
}
