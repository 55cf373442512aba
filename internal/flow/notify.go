package flow

import (
	"context"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
)

// SetEmitter sets where notifications go (webhooks, email, chat).
func (f *Flow) SetEmitter(e notify.Emitter) { f.emitter = e }

// HandleTransition is the worker of a stage change: it sends
// lead.stage_changed (and lead.recycled for a recycle) with the handoff
// context to every channel.
func (f *Flow) HandleTransition(ctx context.Context, args jobs.TransitionArgs) error {
	data := map[string]any{notify.DataFrom: args.From, notify.DataTo: args.To, "cause": args.Cause, "transition_id": args.TransitionID}
	types := []string{notify.LeadStageChanged}
	if args.To == leadflow.StageRecycled {
		types = append(types, notify.LeadRecycled)
	}
	return f.fanOut(ctx, args.LeadID, "", types, data)
}

// HandleEvent is the worker of other lead events (assigned, touch, deal).
func (f *Flow) HandleEvent(ctx context.Context, args jobs.EventArgs) error {
	return f.fanOut(ctx, args.LeadID, args.Owner, []string{args.Type}, args.Data)
}

func (f *Flow) fanOut(ctx context.Context, leadID int64, owner string, types []string, extra map[string]any) error {
	if f.emitter == nil {
		return nil
	}
	h, err := f.Handoff(ctx, leadID)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return nil // erased since: nothing to say
	} else if err != nil {
		return err
	}
	data, err := h.notification()
	if err != nil {
		return err
	}
	for k, v := range extra {
		data[k] = v
	}
	if owner == "" {
		owner = h.Owner
	}
	return f.db.InTx(ctx, func(tx *store.Tx) error {
		for _, t := range types {
			if err := f.emitter.Emit(ctx, tx, notify.Event{Type: t, LeadID: leadID, At: tx.Now, Data: data, Owner: owner}); err != nil {
				return err
			}
		}
		return nil
	})
}

// notification is the data of a notification: the essentials the email and
// chat templates show at the top level (see the notify.Data* keys) and the
// whole handoff context under "handoff".
func (h *Handoff) notification() (map[string]any, error) {
	full, err := h.Map()
	if err != nil {
		return nil, err
	}
	d := map[string]any{
		"lifecyclestage":      HubSpotStage(h.Stage),
		notify.DataLead:       full["lead"],
		notify.DataOwner:      h.Owner,
		notify.DataTopContent: full["top_content"],
		"handoff":             full,
	}
	if h.Score != nil {
		d[notify.DataScore] = h.Score.Score
	}
	if h.Why != nil {
		d[notify.DataReason] = h.Why.Reason
		if d[notify.DataReason] == "" {
			d[notify.DataReason] = h.Why.Cause
		}
		d[notify.DataRule] = h.Why.Rule
	}
	if len(h.SLA) > 0 {
		d[notify.DataSLA] = map[string]any{"policy": h.SLA[0].Policy, "due_at": h.SLA[0].DueAt}
	}
	if len(h.Owners) > 0 {
		d[notify.DataPreviousOwner] = h.Owners[0].Owner
	}
	return d, nil
}

// HubSpotStage maps a leadflow stage to HubSpot's lifecyclestage values, so
// a webhook receiver can sync to HubSpot without glue code. HubSpot has no
// SAL or HQL: both are sales qualified there; recycled and disqualified are
// "other".
func HubSpotStage(s leadflow.Stage) string {
	switch s {
	case leadflow.StageLead:
		return "lead"
	case leadflow.StageMQL:
		return "marketingqualifiedlead"
	case leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL:
		return "salesqualifiedlead"
	case leadflow.StageOpportunity:
		return "opportunity"
	case leadflow.StageCustomer:
		return "customer"
	}
	return "other"
}
