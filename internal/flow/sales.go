package flow

import (
	"context"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// withLead runs fn on one lead's state in a transaction and writes the lead.
func (f *Flow) withLead(ctx context.Context, id int64, fn func(u *unit, st *leadState) error) (*leadflow.Lead, error) {
	var out *leadflow.Lead
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		st, err := u.load(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(u, st); err != nil {
			return err
		}
		out = st.lead
		return u.flush(ctx)
	})
	return out, err
}

// RejectionReasons returns the configured reasons (or the defaults).
func (f *Flow) RejectionReasons(ctx context.Context) ([]lifecycle.Reason, error) {
	s, err := f.db.Setting(ctx, store.SettingRejectionReasons)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return lifecycle.DefaultReasons, nil
	} else if err != nil {
		return nil, err
	}
	return lifecycle.ParseReasons([]byte(s.Value))
}

// Accept is sales accepting an MQL: it becomes a SAL.
func (f *Flow) Accept(ctx context.Context, id int64, note string, actor Actor) (*leadflow.Lead, error) {
	return f.withLead(ctx, id, func(u *unit, st *leadState) error {
		if st.lead.Stage != leadflow.StageMQL {
			return leadflow.Errorf(leadflow.ECONFLICT, "only an MQL can be accepted; lead %d is %s", id, st.lead.Stage)
		}
		if err := u.stopSLA(ctx, st, sla.TargetAccept, actor); err != nil {
			return err
		}
		return u.transition(ctx, st, leadflow.StageSAL, string(actor), note, u.score(st))
	})
}

// Reject is sales returning a qualified lead to marketing with a reason from
// the configured list: it is recycled to nurture and the reason reported.
func (f *Flow) Reject(ctx context.Context, id int64, reason, note string, actor Actor) (*leadflow.Lead, error) {
	reasons, err := f.RejectionReasons(ctx)
	if err != nil {
		return nil, err
	}
	r, err := lifecycle.FindReason(reasons, reason)
	if err != nil {
		return nil, err
	}
	return f.withLead(ctx, id, func(u *unit, st *leadState) error {
		switch st.lead.Stage {
		case leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL:
		default:
			return leadflow.Errorf(leadflow.ECONFLICT, "only an MQL, SAL, SQL or HQL can be rejected; lead %d is %s", id, st.lead.Stage)
		}
		text := r.ID
		if note != "" {
			text += ": " + note
		}
		if err := u.stopSLA(ctx, st, sla.TargetAccept, actor); err != nil {
			return err
		}
		return u.transition(ctx, st, leadflow.StageRecycled, string(actor), text, u.score(st))
	})
}

// Qualify is sales confirming the need: the lead becomes an SQL.
func (f *Flow) Qualify(ctx context.Context, id int64, note string, actor Actor) (*leadflow.Lead, error) {
	return f.withLead(ctx, id, func(u *unit, st *leadState) error {
		if err := lifecycle.CanMove(st.lead.Stage, leadflow.StageSQL, true); err != nil {
			return err
		}
		if err := u.stopSLA(ctx, st, sla.TargetAccept, actor); err != nil {
			return err
		}
		return u.transition(ctx, st, leadflow.StageSQL, string(actor), note, u.score(st))
	})
}

// Disqualify marks a lead as junk, competitor, student or duplicate.
func (f *Flow) Disqualify(ctx context.Context, id int64, reason, note string, actor Actor) (*leadflow.Lead, error) {
	reasons, err := f.RejectionReasons(ctx)
	if err != nil {
		return nil, err
	}
	r, err := lifecycle.FindReason(reasons, reason)
	if err != nil {
		return nil, err
	}
	return f.withLead(ctx, id, func(u *unit, st *leadState) error {
		if err := lifecycle.CanMove(st.lead.Stage, leadflow.StageDisqualified, true); err != nil {
			return err
		}
		text := r.ID
		if note != "" {
			text += ": " + note
		}
		if err := u.stopSLA(ctx, st, sla.TargetAccept, actor); err != nil {
			return err
		}
		return u.transition(ctx, st, leadflow.StageDisqualified, string(actor), text, u.score(st))
	})
}

// LogTouch records a call, email or meeting; it stops the lead's
// first-touch SLA clocks.
func (f *Flow) LogTouch(ctx context.Context, id int64, t store.Touch, actor Actor) (*store.Touch, error) {
	t.LeadID, t.Actor = id, string(actor)
	_, err := f.withLead(ctx, id, func(u *unit, st *leadState) error {
		if err := u.tx.InsertTouch(ctx, &t); err != nil {
			return err
		}
		if sla.CountsAsTouch(t.Kind) {
			if err := u.stopSLA(ctx, st, sla.TargetFirstTouch, actor); err != nil {
				return err
			}
		}
		return u.event(ctx, notify.LeadTouchLogged, st, map[string]any{"touch": t})
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Deal is a deal update from the CRM, by the lead's id or email.
type Deal struct {
	store.Deal
	Email string `json:"email,omitempty"`
}

// UpdateDeal records a deal from the CRM (API or CSV) and moves the lead:
// an open deal makes it an opportunity, a won deal a customer, a lost deal
// recycles it with the loss reason.
func (f *Flow) UpdateDeal(ctx context.Context, d Deal, actor Actor) (*store.Deal, *leadflow.Lead, error) {
	if d.LeadID == 0 {
		if d.Email == "" {
			return nil, nil, leadflow.Invalidf("lead_id", "give the lead's id or email")
		}
		l, err := f.db.FindLeadByEmail(ctx, d.Email)
		if err != nil {
			return nil, nil, err
		}
		d.LeadID = l.ID
	}
	deal := d.Deal
	lead, err := f.withLead(ctx, d.LeadID, func(u *unit, st *leadState) error {
		prev, err := u.tx.UpsertDeal(ctx, &deal)
		if err != nil {
			return err
		}
		if prev != nil && prev.Status == deal.Status && prev.Amount == deal.Amount {
			return nil // a repeated update: nothing moves
		}
		var to leadflow.Stage
		reason := ""
		switch deal.Status {
		case store.DealOpen:
			if st.lead.Stage.Rank() < leadflow.StageOpportunity.Rank() {
				to = leadflow.StageOpportunity
			}
		case store.DealWon:
			to = leadflow.StageCustomer
		case store.DealLost:
			to, reason = leadflow.StageRecycled, "deal lost"
			if deal.Reason != "" {
				reason += ": " + deal.Reason
			}
		}
		if to != "" && to != st.lead.Stage {
			if err := u.transition(ctx, st, to, string(actor), reason, u.score(st)); err != nil {
				return err
			}
		}
		return u.event(ctx, notify.DealUpdated, st, map[string]any{"deal": deal})
	})
	if err != nil {
		return nil, nil, err
	}
	return &deal, lead, nil
}

// event queues the notifications of a lead event in the unit's transaction.
func (u *unit) event(ctx context.Context, typ string, st *leadState, data map[string]any) error {
	return u.enqueue(ctx, u.tx, jobs.EventArgs{Type: typ, LeadID: st.lead.ID, Owner: st.lead.Owner, Data: data})
}
