package nurture

import (
	"context"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
	"github.com/leadflow/leadflow/internal/store"
)

// Pause stops an active enrolment where it is. It keeps the time its
// next step was due and records when it was paused, so a resume
// continues a wait with the time it had left.
func Pause(ctx context.Context, tx *store.Tx, id int64) (*store.Enrolment, error) {
	e, err := tx.Enrolment(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Status != store.EnrolmentActive {
		return nil, leadflow.Errorf(leadflow.ECONFLICT, "enrolment %d is %s, not active", id, e.Status)
	}
	ok, err := tx.PauseEnrolment(ctx, e)
	if err == nil && !ok {
		err = leadflow.Errorf(leadflow.ECONFLICT, "enrolment %d moved meanwhile; try again", id)
	}
	return e, err
}

// Resume restarts a paused enrolment at the step it was paused at, with
// the compiled sequences and the calendar of a fresh cache; the flow
// uses its own cache (Cache.Resume).
func Resume(ctx context.Context, tx *store.Tx, enqueue Enqueue, id int64) (*store.Enrolment, error) {
	return (&Cache{}).Resume(ctx, tx, enqueue, id)
}

// Resume restarts a paused enrolment at the step it was paused at. A
// wait that was running when it was paused continues with the time it had
// left then (business time for a wait in business days or hours); a step
// that was due runs now.
func (c *Cache) Resume(ctx context.Context, tx *store.Tx, enqueue Enqueue, id int64) (*store.Enrolment, error) {
	e, err := tx.Enrolment(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Status != store.EnrolmentPaused {
		return nil, leadflow.Errorf(leadflow.ECONFLICT, "enrolment %d is %s, not paused", id, e.Status)
	}
	at := tx.Now
	if !e.PausedAt.IsZero() && e.NextRunAt.After(e.PausedAt) {
		byID, _, err := c.Load(ctx, tx)
		if err != nil {
			return nil, err
		}
		pols, err := c.policies(ctx, tx)
		if err != nil {
			return nil, err
		}
		at = waitBefore(byID[e.SequenceID], e.Step).ResumeAt(e.PausedAt, e.NextRunAt, tx.Now, pols.Calendar)
	}
	ok, err := tx.MoveEnrolment(ctx, e, e.Step, store.EnrolmentActive, "", at)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, leadflow.Errorf(leadflow.ECONFLICT, "enrolment %d moved meanwhile; try again", id)
	}
	return e, enqueue(ctx, tx, StepArgs{EnrolmentID: e.ID, Step: e.Step, At: at})
}

// waitBefore is the wait that scheduled step i of s (a wait step moves
// the enrolment to the next step, due when the wait ends); the zero Wait
// when step i-1 is no wait.
func waitBefore(s *Sequence, i int) Wait {
	if s != nil && i > 0 && i <= len(s.Steps) && s.Steps[i-1].Kind == StepWait {
		return s.Steps[i-1].Wait
	}
	return Wait{}
}

// ResumeAt returns when a wait that was due at due and was paused at
// paused ends when it is resumed at now: now plus the time it had left,
// counted in business time on cal for a wait in business days or hours
// (so a pause over a weekend or a holiday costs nothing). A wait that had
// no time left ends now.
func (w Wait) ResumeAt(paused, due, now time.Time, cal *calendar.Calendar) time.Time {
	if !due.After(paused) {
		return now
	}
	if (w.BusinessDays > 0 || w.BusinessHours > 0) && cal != nil {
		left := cal.Between(paused, due)
		if left <= 0 {
			// Paused after the last business moment of the wait: it
			// ends at its end, or now if that has passed.
			if due.After(now) {
				return due
			}
			return now
		}
		return cal.Add(now, left).UTC()
	}
	return now.Add(due.Sub(paused))
}
