package flow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/riverqueue/river"
)

// unit is the work of one transaction: the active model, a matcher that
// memoizes rule results, and the leads touched so far (written once at the
// end).
type unit struct {
	f       *Flow
	tx      *store.Tx
	act     Active
	matcher *scoring.Matcher
	leads   map[int64]*leadState
	order   []int64
	// jobs are the side effects enqueued so far, inserted by flush with
	// one statement: every path that opens a unit must end with flush.
	jobs []river.InsertManyParams
	// idents caches identity lookups (0: known to be unlinked) for the
	// unit's transaction; link and merge keep it current.
	idents map[identKey]int64
	// hits are new score hits not stored yet: flushHits writes them with
	// one statement, before anything reads or moves stored hits (rematch,
	// merge) and at flush.
	hits []store.LeadHit
	// exits memoizes, per event name, whether one of seqs (the nurture
	// sequences, read once per transaction) exits on it; nil until read.
	exits map[string]bool
	seqs  []*nurture.Sequence
}

type leadState struct {
	lead  *leadflow.Lead
	hits  []scoring.Hit
	dirty bool
}

func (f *Flow) newUnit(ctx context.Context, tx *store.Tx) (*unit, error) {
	act, err := f.active(ctx, tx)
	if err != nil {
		return nil, err
	}
	return &unit{f: f, tx: tx, act: act, matcher: act.Model.NewMatcher(), leads: map[int64]*leadState{},
		idents: map[identKey]int64{}}, nil
}

// state returns the working state of a lead, loading its hits; a lead last
// scored under another model version has its events matched again.
func (u *unit) state(ctx context.Context, l *leadflow.Lead) (*leadState, error) {
	if st, ok := u.leads[l.ID]; ok {
		return st, nil
	}
	st := &leadState{lead: l}
	if l.ModelVersion == u.act.Version {
		stored, err := u.tx.HitsOfLead(ctx, l.ID)
		if err != nil {
			return nil, err
		}
		st.hits = fromStoreHits(stored)
	} else if err := u.rematch(ctx, st); err != nil {
		return nil, err
	}
	u.leads[l.ID] = st
	u.order = append(u.order, l.ID)
	return st, nil
}

// created returns the state of a lead created in the unit's transaction:
// it has no events, so no hits, and is scored under the active model.
func (u *unit) created(l *leadflow.Lead) *leadState {
	l.ModelVersion = u.act.Version
	st := &leadState{lead: l, dirty: true}
	u.leads[l.ID] = st
	u.order = append(u.order, l.ID)
	return st
}

// load finds a lead by id and returns its state.
func (u *unit) load(ctx context.Context, id int64) (*leadState, error) {
	if st, ok := u.leads[id]; ok {
		return st, nil
	}
	l, err := u.tx.FindLead(ctx, id)
	if err != nil {
		return nil, err
	}
	return u.state(ctx, l)
}

// forget drops a lead from the unit (after it was merged away).
func (u *unit) forget(id int64) { delete(u.leads, id) }

// rematch matches every event of the lead against the active model and
// replaces its stored hits.
func (u *unit) rematch(ctx context.Context, st *leadState) error {
	if err := u.flushHits(ctx); err != nil {
		return err
	}
	events, err := u.tx.EventsOfLead(ctx, st.lead.ID)
	if err != nil {
		return err
	}
	st.hits = st.hits[:0]
	for i := range events {
		st.hits = u.matcher.Match(st.lead, &events[i], st.hits)
	}
	st.lead.ModelVersion = u.act.Version
	st.dirty = true
	return u.tx.ReplaceHits(ctx, st.lead.ID, toStoreHits(st.hits))
}

func fromStoreHits(stored []store.Hit) []scoring.Hit {
	hits := make([]scoring.Hit, len(stored))
	for i, h := range stored {
		hits[i] = scoring.Hit{Rule: h.Rule, EventID: h.EventID, EventName: h.Label, At: h.At, Points: h.Points}
	}
	return hits
}

func toStoreHits(hits []scoring.Hit) []store.Hit {
	out := make([]store.Hit, len(hits))
	for i, h := range hits {
		out[i] = store.Hit{EventID: h.EventID, Rule: h.Rule, At: h.At, Points: h.Points, Label: h.EventName}
	}
	return out
}

// addEvent matches a stored event and records its hits (stored by
// flushHits).
func (u *unit) addEvent(_ context.Context, st *leadState, ev *leadflow.Event) error {
	n := len(st.hits)
	st.hits = u.matcher.Match(st.lead, ev, st.hits)
	for _, h := range st.hits[n:] {
		u.hits = append(u.hits, store.LeadHit{LeadID: st.lead.ID,
			Hit: store.Hit{EventID: h.EventID, Rule: h.Rule, At: h.At, Points: h.Points, Label: h.EventName}})
	}
	return nil
}

// flushHits stores the hits recorded since the last call.
func (u *unit) flushHits(ctx context.Context) error {
	if len(u.hits) == 0 {
		return nil
	}
	err := u.tx.InsertLeadHits(ctx, u.hits)
	u.hits = u.hits[:0]
	return err
}

// score recomputes the lead's score as of the transaction time.
func (u *unit) score(st *leadState) scoring.Result {
	m := u.act.Model
	r := m.Score(m.Fit(st.lead, u.tx.Now), st.hits, u.tx.Now)
	l := st.lead
	if l.Score != r.Score || l.FitScore != r.Fit || l.BehaviorScore != r.Behavior || !l.NextDecayAt.Equal(r.NextChange) {
		st.dirty = true
	}
	l.Score, l.FitScore, l.BehaviorScore = r.Score, r.Fit, r.Behavior
	l.ScoredAt, l.NextDecayAt, l.ModelVersion = u.tx.Now, r.NextChange, u.act.Version
	return r
}

// qualify scores the lead and applies the automatic stage rules with the
// triggering event (nil when the change was not an event).
func (u *unit) qualify(ctx context.Context, st *leadState, ev *leadflow.Event, cause string) error {
	r := u.score(st)
	holds := u.act.Model.Stages(st.lead, r, ev, u.tx.Now)
	to, rule, ok := lifecycle.Advance(st.lead.Stage, holds)
	if !ok {
		return nil
	}
	if cause == "" {
		cause = fmt.Sprintf("rule %s (model v%d)", rule, u.act.Version)
	}
	return u.transition(ctx, st, to, cause, "", r)
}

// transition moves the lead, records the transition with a snapshot of the
// score explanation and enqueues its notification job.
func (u *unit) transition(ctx context.Context, st *leadState, to leadflow.Stage, cause, reason string, r scoring.Result) error {
	expl, err := json.Marshal(r.Explanation)
	if err != nil {
		return leadflow.Internal(err, "explanation")
	}
	t := &leadflow.Transition{LeadID: st.lead.ID, From: st.lead.Stage, To: to, At: u.tx.Now, Cause: cause,
		Reason: reason, Score: r.Score, Explanation: expl}
	if err := u.tx.InsertTransition(ctx, t); err != nil {
		return err
	}
	st.lead.Stage, st.lead.StageAt, st.dirty = to, u.tx.Now, true
	// A qualified lead gets an owner by the routing rules (which may read
	// lead.stage, so this comes after the stage is set).
	switch to {
	case leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL:
		a, err := u.routeAssignment(ctx, st, cause)
		if err != nil {
			return err
		}
		if err := u.assigned(ctx, st, a); err != nil {
			return err
		}
	}
	// Entering a stage starts its SLA clocks (and cancels the previous
	// stage's): in the same transaction, with durable timer jobs.
	if err := u.startSLA(ctx, st); err != nil {
		return err
	}
	// …and enrols the lead in (or takes it out of) nurture sequences.
	if err := u.nurtureOnStage(ctx, st); err != nil {
		return err
	}
	return u.enqueue(ctx, u.tx, jobs.TransitionArgs{TransitionID: t.ID, LeadID: t.LeadID, From: t.From, To: t.To, Cause: cause})
}

// enqueue collects a job of the unit's transaction; flush inserts it. It
// has the signature of sla.Enqueue and nurture.Enqueue.
func (u *unit) enqueue(_ context.Context, tx *store.Tx, args river.JobArgs) error {
	if tx != u.tx {
		return leadflow.Errorf(leadflow.EINTERNAL, "enqueue %s outside the unit's transaction", args.Kind())
	}
	u.jobs = append(u.jobs, river.InsertManyParams{Args: args})
	return nil
}

// flush writes every changed lead and inserts the jobs enqueued so far.
func (u *unit) flush(ctx context.Context) error {
	if err := u.flushHits(ctx); err != nil {
		return err
	}
	if err := u.f.queue.InsertMany(ctx, u.tx, u.jobs); err != nil {
		return err
	}
	u.jobs = u.jobs[:0]
	var dirty []*leadflow.Lead
	for _, id := range u.order {
		if st, ok := u.leads[id]; ok && st.dirty {
			dirty = append(dirty, st.lead)
		}
	}
	if err := u.tx.UpdateLeads(ctx, dirty); err != nil {
		return err
	}
	for _, l := range dirty {
		u.leads[l.ID].dirty = false
	}
	return nil
}

// assigned queues the lead.assigned notification of a new assignment (nil:
// nothing changed).
func (u *unit) assigned(ctx context.Context, st *leadState, a *store.Assignment) error {
	if a == nil {
		return nil
	}
	return u.event(ctx, notify.LeadAssigned, st, map[string]any{
		notify.DataOwner: a.Owner, notify.DataPreviousOwner: a.PreviousOwner, notify.DataRule: a.Rule,
		"team": a.Team, "queue": a.Queue})
}
