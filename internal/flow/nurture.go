package flow

import (
	"context"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

var _ nurture.Recorder = (*Flow)(nil)

// nurtureOnStage enrols the lead in the sequences that take leads entering
// its new stage and ends the enrolments that exit on it, in the unit's
// transaction. Call it from transition after the stage is set.
func (u *unit) nurtureOnStage(ctx context.Context, st *leadState) error {
	return u.f.caches.nurture.OnStage(ctx, u.tx, u.enqueue, st.lead, "stage "+string(st.lead.Stage))
}

// nurtureOnEvent ends the lead's enrolments in sequences that exit on the
// event (e.g. "Email Replied"). Call it after an event is recorded for a
// lead (ingest_batch.go's ingested, after addEvent). The sequences are
// read once per transaction: an event that no sequence exits on (almost
// every one) costs no query.
func (u *unit) nurtureOnEvent(ctx context.Context, st *leadState, ev *leadflow.Event) error {
	if u.exits == nil {
		byID, _, err := u.f.caches.nurture.Load(ctx, u.tx)
		if err != nil {
			return err
		}
		u.exits = map[string]bool{}
		for _, s := range byID {
			u.seqs = append(u.seqs, s)
		}
	}
	exits, ok := u.exits[ev.Name]
	if !ok {
		for _, s := range u.seqs {
			if s.ExitsOnEvent(ev.Name) {
				exits = true
				break
			}
		}
		u.exits[ev.Name] = exits
	}
	if !exits {
		return nil
	}
	return u.f.caches.nurture.OnEvent(ctx, u.tx, st.lead.ID, ev.Name)
}

// NurtureEvent records a tracking event (open, click, unsubscribe) for the
// send's lead in one transaction, through the same scoring path as
// ingested events: the event is stored (once per message id), matched,
// scored and the stage rules applied. An unsubscribe also withdraws the
// lead's consent, suppresses the address and ends every enrolment.
func (f *Flow) NurtureEvent(ctx context.Context, t nurture.Tracked) error {
	_, err := f.withLead(ctx, t.Send.LeadID, func(u *unit, st *leadState) error {
		ev := leadflow.Event{SourceID: 0, MessageID: t.MessageID, LeadID: st.lead.ID, Type: leadflow.EventTrack,
			Name: t.Name, Properties: t.Properties, Context: map[string]any{"library": map[string]any{"name": "leadflow-nurture"}},
			Timestamp: u.tx.Now, ReceivedAt: u.tx.Now}
		isNew, err := u.tx.InsertEvent(ctx, &ev)
		if err != nil {
			return err
		}
		mark := map[string]string{nurture.EventEmailOpened: "opened", nurture.EventEmailClicked: "clicked",
			nurture.EventUnsubscribed: "unsubscribed"}[t.Name]
		if mark != "" {
			if err := u.tx.MarkSend(ctx, t.Send.ID, mark); err != nil {
				return err
			}
		}
		if t.Name == nurture.EventUnsubscribed {
			if !st.lead.Unsubscribed || st.lead.Consent {
				st.lead.Unsubscribed, st.lead.Consent, st.dirty = true, false, true
			}
			if err := u.tx.Suppress(ctx, t.Send.Email, "unsubscribed", st.lead.ID); err != nil {
				return err
			}
			if err := nurture.ExitAll(ctx, u.tx, st.lead.ID, nurture.ExitUnsubscribed); err != nil {
				return err
			}
		}
		if !isNew {
			return nil // a repeated open or click: counted once
		}
		if err := u.addEvent(ctx, st, &ev); err != nil {
			return err
		}
		return u.qualify(ctx, st, &ev, "")
	})
	return err
}

// CompleteNurtureTask closes a nurture task and logs the touch it was
// (a call task logs a call) with its outcome, in one transaction; the
// touch stops first-touch SLA clocks as LogTouch does.
func (f *Flow) CompleteNurtureTask(ctx context.Context, taskID int64, outcome, note string, actor Actor) (*store.Task, *store.Touch, error) {
	task, err := f.db.Task(ctx, taskID)
	if err != nil {
		return nil, nil, err
	}
	if task.Status != store.TaskOpen {
		return nil, nil, leadflow.Errorf(leadflow.ECONFLICT, "task %d is done already", taskID)
	}
	touch := store.Touch{LeadID: task.LeadID, Actor: string(actor), Kind: task.Kind, Outcome: outcome, Note: note}
	if touch.Note == "" {
		touch.Note = task.Title
	}
	_, err = f.withLead(ctx, task.LeadID, func(u *unit, st *leadState) error {
		if err := u.tx.InsertTouch(ctx, &touch); err != nil {
			return err
		}
		if err := u.tx.CompleteTask(ctx, taskID, outcome, touch.ID, string(actor)); err != nil {
			return err
		}
		if sla.CountsAsTouch(touch.Kind) {
			if err := u.stopSLA(ctx, st, sla.TargetFirstTouch, actor); err != nil {
				return err
			}
		}
		return u.event(ctx, notify.LeadTouchLogged, st, map[string]any{"touch": touch})
	})
	if err != nil {
		return nil, nil, err
	}
	task, err = f.db.Task(ctx, taskID)
	return task, &touch, err
}

// EnrolInSequence enrols a lead by hand (API), subject to the sequence's
// exclusions; it returns why not when the lead was not enrolled.
func (f *Flow) EnrolInSequence(ctx context.Context, seqID, leadID int64, actor Actor) (*store.Enrolment, string, error) {
	var e *store.Enrolment
	var why string
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		byID, _, err := f.caches.nurture.Load(ctx, tx)
		if err != nil {
			return err
		}
		seq := byID[seqID]
		if seq == nil {
			return leadflow.Errorf(leadflow.ENOTFOUND, "sequence %d not found", seqID)
		}
		l, err := tx.FindLead(ctx, leadID)
		if err != nil {
			return err
		}
		e, why, err = f.caches.nurture.Enrol(ctx, tx, f.queue.Insert, seq, l, string(actor))
		return err
	})
	return e, why, err
}

// PauseEnrolment, ResumeEnrolment and ExitEnrolment are the owner's
// controls over one enrolment.
func (f *Flow) PauseEnrolment(ctx context.Context, id int64) (*store.Enrolment, error) {
	var e *store.Enrolment
	err := f.db.InTx(ctx, func(tx *store.Tx) (err error) {
		e, err = nurture.Pause(ctx, tx, id)
		return err
	})
	return e, err
}

// ResumeEnrolment restarts a paused enrolment at its step; a wait in
// progress continues with the time it had left when it was paused.
func (f *Flow) ResumeEnrolment(ctx context.Context, id int64) (*store.Enrolment, error) {
	var e *store.Enrolment
	err := f.db.InTx(ctx, func(tx *store.Tx) (err error) {
		e, err = f.caches.nurture.Resume(ctx, tx, f.queue.Insert, id)
		return err
	})
	return e, err
}

// ExitEnrolment takes a lead out of a sequence (reason: e.g. "replied",
// default "removed").
func (f *Flow) ExitEnrolment(ctx context.Context, id int64, reason string) (*store.Enrolment, error) {
	var e *store.Enrolment
	err := f.db.InTx(ctx, func(tx *store.Tx) (err error) {
		e, err = nurture.Remove(ctx, tx, id, reason)
		return err
	})
	return e, err
}
