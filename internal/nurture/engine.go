package nurture

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// StepArgs runs step Step of an enrolment at At. A job whose enrolment
// has moved on, paused or ended does nothing, so stale jobs are harmless.
type StepArgs struct {
	EnrolmentID int64     `json:"enrolment_id"`
	Step        int       `json:"step"`
	At          time.Time `json:"at"`
}

// Kind implements river.JobArgs.
func (StepArgs) Kind() string { return "nurture_step" }

// InsertOpts schedules the step at At; a failing send is retried with
// backoff for about a day and a half.
func (a StepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{ScheduledAt: a.At, MaxAttempts: maxAttempts}
}

// EnrolArgs enrols a lead that entered Stage at StageAt into a sequence
// with an enrol.after delay, if it is still in that stage then ("MQL not
// accepted within 2 business days").
type EnrolArgs struct {
	SequenceID int64          `json:"sequence_id"`
	LeadID     int64          `json:"lead_id"`
	Stage      leadflow.Stage `json:"stage"`
	StageAt    time.Time      `json:"stage_at"`
	At         time.Time      `json:"at"`
}

// Kind implements river.JobArgs.
func (EnrolArgs) Kind() string { return "nurture_enrol" }

// InsertOpts schedules the check at At.
func (a EnrolArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{ScheduledAt: a.At, MaxAttempts: 20}
}

// Enqueue inserts a job in tx; (*jobs.Queue).Insert has this signature.
type Enqueue func(ctx context.Context, tx *store.Tx, args river.JobArgs) error

// Exit reasons besides store.ExitConverted and "stage:<stage>".
const (
	ExitUnsubscribed = "unsubscribed"
	ExitSuppressed   = "suppressed"
	ExitRemoved      = "removed"
	ExitGone         = "sequence removed"
)

// Cache holds the compiled sequences, recompiled when any is saved. The
// zero Cache is ready; it is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	stamp string
	seqs  map[int64]*Sequence
	order []*Sequence

	cal sla.Cache
}

// Load returns every stored sequence, compiled, by id.
func (c *Cache) Load(ctx context.Context, tx *store.Tx) (map[int64]*Sequence, []*Sequence, error) {
	stamp, err := tx.SequencesStamp(ctx)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seqs != nil && c.stamp == stamp {
		return c.seqs, c.order, nil
	}
	rows, err := tx.Sequences(ctx)
	if err != nil {
		return nil, nil, err
	}
	m := map[int64]*Sequence{}
	var order []*Sequence
	for _, r := range rows {
		s, err := Parse(r.Name+".yaml", []byte(r.Source))
		if err != nil {
			return nil, nil, leadflow.Internal(err, "stored sequence "+r.Name+" no longer validates")
		}
		s.ID, s.Active = r.ID, r.Active
		m[r.ID] = s
		order = append(order, s)
	}
	c.stamp, c.seqs, c.order = stamp, m, order
	return m, order, nil
}

// calendar returns the company calendar (the SLA settings' one).
func (c *Cache) policies(ctx context.Context, tx *store.Tx) (*sla.Policies, error) {
	return c.cal.Load(ctx, tx)
}

// OnStage is the flow's hook after a lead's stage changed (st.lead.Stage
// is the new stage), in the flow's transaction: enrolments whose exit
// rules name the stage end, and sequences that enrol on it take the lead
// in (at once, or by a scheduled check after enrol.after).
func (c *Cache) OnStage(ctx context.Context, tx *store.Tx, enqueue Enqueue, l *leadflow.Lead, cause string) error {
	byID, order, err := c.Load(ctx, tx)
	if err != nil || len(order) == 0 {
		return err
	}
	live, err := tx.LiveEnrolmentsOfLead(ctx, l.ID)
	if err != nil {
		return err
	}
	for i := range live {
		e := &live[i]
		s := byID[e.SequenceID]
		if s == nil {
			continue
		}
		if reason, ok := s.ExitsOn(l.Stage); ok {
			if _, err := tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentExited, reason, time.Time{}); err != nil {
				return err
			}
		}
	}
	for _, s := range order {
		if !s.Active || !s.EnrolsOn(l.Stage) {
			continue
		}
		if s.Enrol.After.IsZero() {
			if _, _, err := c.Enrol(ctx, tx, enqueue, s, l, cause); err != nil {
				return err
			}
			continue
		}
		pols, err := c.policies(ctx, tx)
		if err != nil {
			return err
		}
		at := s.Enrol.After.Until(tx.Now, pols.Calendar)
		if err := enqueue(ctx, tx, EnrolArgs{SequenceID: s.ID, LeadID: l.ID, Stage: l.Stage, StageAt: l.StageAt, At: at}); err != nil {
			return err
		}
	}
	return nil
}

// OnEvent is the flow's hook after an event of a lead was recorded: an
// event a sequence exits on ("Email Replied") ends the lead's enrolment.
func (c *Cache) OnEvent(ctx context.Context, tx *store.Tx, leadID int64, name string) error {
	byID, order, err := c.Load(ctx, tx)
	if err != nil || len(order) == 0 {
		return err
	}
	live, err := tx.LiveEnrolmentsOfLead(ctx, leadID)
	if err != nil {
		return err
	}
	for i := range live {
		e := &live[i]
		if s := byID[e.SequenceID]; s != nil && s.ExitsOnEvent(name) {
			if _, err := tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentExited, "event:"+name, time.Time{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// ExitAll ends every live enrolment of the lead with reason.
func ExitAll(ctx context.Context, tx *store.Tx, leadID int64, reason string) error {
	_, err := ExitAllCount(ctx, tx, leadID, reason)
	return err
}

// ExitAllCount is ExitAll that reports how many enrolments it ended.
func ExitAllCount(ctx context.Context, tx *store.Tx, leadID int64, reason string) (int, error) {
	live, err := tx.LiveEnrolmentsOfLead(ctx, leadID)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range live {
		ok, err := tx.MoveEnrolment(ctx, &live[i], live[i].Step, store.EnrolmentExited, reason, time.Time{})
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Enrol puts the lead at the first step of s when it is eligible, and
// queues that step. It returns the enrolment (nil when the lead was not
// enrolled) and why not.
func (c *Cache) Enrol(ctx context.Context, tx *store.Tx, enqueue Enqueue, s *Sequence, l *leadflow.Lead, cause string) (*store.Enrolment, string, error) {
	supp := ""
	if l.Email != "" {
		var err error
		if supp, err = tx.Suppression(ctx, l.Email); err != nil {
			return nil, "", err
		}
	}
	if ok, why := s.Eligible(Facts{Lead: l, Now: tx.Now}, supp); !ok {
		return nil, why, nil
	}
	e := &store.Enrolment{SequenceID: s.ID, LeadID: l.ID, Cause: cause, NextRunAt: tx.Now}
	ok, err := tx.Enrol(ctx, e)
	if err != nil || !ok {
		return nil, "already in the sequence", err
	}
	if err := enqueue(ctx, tx, StepArgs{EnrolmentID: e.ID, Step: 0, At: tx.Now}); err != nil {
		return nil, "", err
	}
	return e, "", nil
}

// advance moves an enrolment to step next at `at` and queues that step,
// or completes it past the last step. It reports false when someone moved
// the enrolment meanwhile (then nothing is queued).
func advance(ctx context.Context, tx *store.Tx, enqueue Enqueue, e *store.Enrolment, s *Sequence, next int, at time.Time) (bool, error) {
	if next >= len(s.Steps) {
		return tx.MoveEnrolment(ctx, e, len(s.Steps), store.EnrolmentCompleted, "", time.Time{})
	}
	ok, err := tx.MoveEnrolment(ctx, e, next, store.EnrolmentActive, "", at)
	if err != nil || !ok {
		return ok, err
	}
	return true, enqueue(ctx, tx, StepArgs{EnrolmentID: e.ID, Step: next, At: at})
}

// Remove ends an enrolment by hand (the owner took the lead out).
func Remove(ctx context.Context, tx *store.Tx, id int64, reason string) (*store.Enrolment, error) {
	e, err := tx.Enrolment(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Status != store.EnrolmentActive && e.Status != store.EnrolmentPaused {
		return nil, leadflow.Errorf(leadflow.ECONFLICT, "enrolment %d has ended (%s)", id, e.Status)
	}
	if reason == "" {
		reason = ExitRemoved
	}
	_, err = tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentExited, reason, time.Time{})
	return e, err
}

func stepName(s *Sequence, i int) string {
	if i >= 0 && i < len(s.Steps) {
		return s.Steps[i].ID
	}
	return fmt.Sprintf("step %d", i+1)
}
