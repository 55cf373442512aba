package sla

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
)

// This file is the impure side of the package: clocks in sla_clocks and
// their timers as River jobs, inserted in the caller's transaction so that
// a clock and its timers commit together. A restart loses no timer (they
// are rows in the database) and fires none twice (the clock is marked with
// a conditional update in the same transaction as the notification).

// WarnArgs is the timer that warns the owner before a clock's deadline.
type WarnArgs struct {
	ClockID int64 `json:"clock_id"`
	// At is when the job runs; it is part of the args so that InsertOpts
	// can schedule each job at its own time.
	At time.Time `json:"at"`
}

// Kind implements river.JobArgs.
func (WarnArgs) Kind() string { return "sla_warning" }

// InsertOpts schedules the job at At.
func (a WarnArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{ScheduledAt: a.At, MaxAttempts: 20}
}

// BreachArgs is the timer that records and escalates a breach at a
// clock's deadline.
type BreachArgs struct {
	ClockID int64     `json:"clock_id"`
	At      time.Time `json:"at"`
}

// Kind implements river.JobArgs.
func (BreachArgs) Kind() string { return "sla_breach" }

// InsertOpts schedules the job at At.
func (a BreachArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{ScheduledAt: a.At, MaxAttempts: 20}
}

// Enqueue inserts a job in tx; (*jobs.Queue).Insert has this signature.
type Enqueue func(ctx context.Context, tx *store.Tx, args river.JobArgs) error

// Cache parses the SLA settings once per version of the document. The zero
// value is ready to use and safe for concurrent use.
type Cache struct {
	mu  sync.Mutex
	src string
	p   *Policies
}

// Load returns the policies in force in tx: the stored settings document,
// or Default when none is stored.
func (c *Cache) Load(ctx context.Context, tx *store.Tx) (*Policies, error) {
	s, err := tx.Setting(ctx, store.SettingSLA)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return defaultPolicies(), nil
	} else if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.p != nil && c.src == s.Value {
		return c.p, nil
	}
	p, err := Parse("sla.yaml", []byte(s.Value))
	if err != nil {
		// It was validated when stored; only a change of the rules in an
		// upgrade can get here, and the admin must fix the settings.
		return nil, leadflow.Internal(err, "stored SLA settings no longer validate")
	}
	c.src, c.p = s.Value, p
	return p, nil
}

var defaultPolicies = sync.OnceValue(Default)

// Start starts the clocks of the stage the lead is in, as of tx.Now, and
// schedules their timers: it first closes the open clocks of every other
// stage (the lead left them), then starts each policy of the stage that is
// not already running for the lead. The owner of the clocks is the lead's
// owner; call it after routing, or call store.Tx.ReownClocks on
// assignment.
func Start(ctx context.Context, tx *store.Tx, pols *Policies, lead *leadflow.Lead, enqueue Enqueue) ([]store.SLAClock, error) {
	if _, err := tx.CloseClocks(ctx, lead.ID, lead.Stage, "stage:"+string(lead.Stage)); err != nil {
		return nil, err
	}
	list := pols.For(lead.Stage)
	if len(list) == 0 {
		return nil, nil
	}
	open, err := tx.OpenClocksOfLead(ctx, lead.ID)
	if err != nil {
		return nil, err
	}
	var started []store.SLAClock
next:
	for _, pol := range list {
		for _, c := range open {
			if c.Policy == pol.ID && c.Status == store.ClockRunning {
				continue next
			}
		}
		c, err := startClock(ctx, tx, pols, lead, pol, enqueue)
		if err != nil {
			return nil, err
		}
		started = append(started, *c)
	}
	return started, nil
}

func startClock(ctx context.Context, tx *store.Tx, pols *Policies, lead *leadflow.Lead, pol Policy, enqueue Enqueue) (*store.SLAClock, error) {
	warnAt, dueAt := pols.Deadline(pol, tx.Now)
	if dueAt.IsZero() {
		return nil, leadflow.Errorf(leadflow.EINVALID, "SLA policy %s: the calendar has no business time left", pol.ID)
	}
	c := &store.SLAClock{LeadID: lead.ID, Stage: lead.Stage, Policy: pol.ID, Owner: lead.Owner,
		StartedAt: tx.Now, WarnAt: warnAt, DueAt: dueAt}
	if err := tx.StartClock(ctx, c); err != nil {
		return nil, err
	}
	if !warnAt.IsZero() {
		if err := enqueue(ctx, tx, WarnArgs{ClockID: c.ID, At: warnAt}); err != nil {
			return nil, err
		}
	}
	if err := enqueue(ctx, tx, BreachArgs{ClockID: c.ID, At: dueAt}); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop stops the open clocks of a lead whose policy has target, as of
// tx.Now: a touch stops first_touch clocks, an accept or reject stops
// accept clocks. A clock whose policy is no longer in the settings is
// stopped by either target. It returns the clocks it stopped.
func Stop(ctx context.Context, tx *store.Tx, pols *Policies, leadID int64, target Target, by string) ([]store.SLAClock, error) {
	open, err := tx.OpenClocksOfLead(ctx, leadID)
	if err != nil {
		return nil, err
	}
	var stopped []store.SLAClock
	for _, c := range open {
		if pol, ok := pols.ByID(c.Policy); ok && pol.Target != target {
			continue
		}
		ok, err := tx.StopClock(ctx, c.ID, by)
		if err != nil {
			return nil, err
		}
		if ok {
			stopped = append(stopped, c)
		}
	}
	return stopped, nil
}

// Workers fire the timers. Register them on the queue with
// jobs.Handlers.Register.
type Workers struct {
	// DB is required.
	DB *store.DB
	// Emitter queues the sla.warning and sla.breached notifications (and
	// lead.assigned for a reassignment); nil drops them.
	Emitter notify.Emitter
	// Context builds the handoff context of a lead for the event's Data;
	// nil sends only the clock under "sla".
	Context func(ctx context.Context, tx *store.Tx, leadID int64) (map[string]any, error)
	// Reassign, when set, replaces the built-in reassignment (the next
	// active member of the team by name): it gives the lead to someone else
	// and returns the new owner, or "" to leave the lead where it is.
	Reassign func(ctx context.Context, tx *store.Tx, lead *leadflow.Lead, clock *store.SLAClock) (string, error)
	// Enqueue inserts the timers of the fresh clock a reassignment starts;
	// nil uses the River client that runs the job.
	Enqueue Enqueue
	Logger  *slog.Logger

	cache Cache
}

// Register adds the warning and breach workers.
func (w *Workers) Register(rw *river.Workers) {
	river.AddWorker(rw, river.WorkFunc(func(ctx context.Context, j *river.Job[WarnArgs]) error {
		_, err := w.Warn(ctx, j.Args.ClockID)
		return err
	}))
	river.AddWorker(rw, river.WorkFunc(func(ctx context.Context, j *river.Job[BreachArgs]) error {
		_, err := w.Breach(ctx, j.Args.ClockID)
		return err
	}))
}

func (w *Workers) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

// Warn sends the warning of a clock, once: it reports false and does
// nothing when the clock was already warned, is no longer running, or is
// past due.
func (w *Workers) Warn(ctx context.Context, clockID int64) (bool, error) {
	var fired bool
	err := w.DB.InTx(ctx, func(tx *store.Tx) error {
		fired = false // a retried transaction starts over
		ok, err := tx.MarkClockWarned(ctx, clockID)
		if err != nil || !ok {
			return err
		}
		c, lead, pols, err := w.load(ctx, tx, clockID)
		if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
			return nil // the lead was erased: nobody to warn
		} else if err != nil {
			return err
		}
		pol, _ := pols.ByID(c.Policy)
		data, err := w.data(ctx, tx, c, pol, pols)
		if err != nil {
			return err
		}
		to := lead.Owner
		if to == "" {
			to = c.Owner
		}
		fired = true
		return w.emit(ctx, tx, notify.Event{Type: notify.SLAWarning, LeadID: c.LeadID, At: tx.Now, Data: data, Owner: to})
	})
	return fired, err
}

// Breach records the breach of a clock and escalates it, once: it reports
// false and does nothing when the clock is no longer running (met,
// canceled, or already breached by an earlier run of the same timer).
func (w *Workers) Breach(ctx context.Context, clockID int64) (bool, error) {
	var fired bool
	err := w.DB.InTx(ctx, func(tx *store.Tx) error {
		fired = false // a retried transaction starts over
		ok, err := tx.MarkClockBreached(ctx, clockID)
		if err != nil || !ok {
			return err
		}
		c, lead, pols, err := w.load(ctx, tx, clockID)
		if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
			return nil // the lead was erased: the breach is recorded, nobody to tell
		} else if err != nil {
			return err
		}
		pol, known := pols.ByID(c.Policy)
		if !known {
			// The policy was removed after the clock started: record the
			// breach and tell the manager, but move nothing.
			pol = Policy{ID: c.Policy, Stage: c.Stage, Escalate: Escalation{NotifyManager: true}}
		}
		team := lead.Team
		if team == "" {
			if team, err = tx.SLAUserTeam(ctx, c.Owner); err != nil {
				return err
			}
		}
		manager := ""
		if pol.Escalate.NotifyManager {
			if manager, err = tx.SLAManager(ctx, team); err != nil {
				return err
			}
		}
		data, err := w.data(ctx, tx, c, pol, pols)
		if err != nil {
			return err
		}
		sd := data[notify.DataSLA].(map[string]any)
		sd["status"], sd["breached_at"] = store.ClockBreached, tx.Now
		sd["team"], sd["manager"] = team, manager
		to := manager
		if to == "" {
			to = c.Owner
		}
		if pol.Escalate.Reassign && lead.Stage == c.Stage {
			newOwner, err := w.reassign(ctx, tx, lead, c, pol, pols, team)
			if err != nil {
				return err
			}
			if newOwner != "" {
				sd["reassigned_to"] = newOwner
			}
		}
		fired = true
		return w.emit(ctx, tx, notify.Event{Type: notify.SLABreached, LeadID: c.LeadID, At: tx.Now, Data: data, Owner: to})
	})
	return fired, err
}

// reassign gives the lead to the next rep, closes the breached clock (its
// owner no longer has to act) and starts a fresh clock of the policy for
// the new owner. It returns the new owner, "" when nobody is left.
func (w *Workers) reassign(ctx context.Context, tx *store.Tx, lead *leadflow.Lead, c *store.SLAClock, pol Policy, pols *Policies, team string) (string, error) {
	var to string
	if w.Reassign != nil {
		var err error
		if to, err = w.Reassign(ctx, tx, lead, c); err != nil || to == "" {
			return "", err
		}
	} else {
		if team == "" {
			return "", nil
		}
		var err error
		to, err = tx.SLANextMember(ctx, team, lead.ID, c.Policy, lead.StageAt, lead.Owner)
		if err != nil || to == "" {
			return "", err
		}
		ok, err := tx.SLAReassign(ctx, lead.ID, lead.Owner, to, team, c.Policy, "system:sla")
		if err != nil || !ok {
			return "", err
		}
	}
	from := lead.Owner
	lead.Owner, lead.Team = to, team
	if _, err := tx.StopClock(ctx, c.ID, "reassigned:"+to); err != nil {
		return "", err
	}
	enqueue := w.Enqueue
	if enqueue == nil {
		client, err := river.ClientFromContextSafely[*sql.Tx](ctx)
		if err != nil {
			return "", leadflow.Internal(err, "SLA reassignment outside a River worker needs Workers.Enqueue")
		}
		enqueue = func(ctx context.Context, tx *store.Tx, args river.JobArgs) error {
			_, err := client.InsertTx(ctx, tx.Tx, args, nil)
			return leadflow.Internal(err, "enqueue "+args.Kind())
		}
	}
	nc, err := startClock(ctx, tx, pols, lead, pol, enqueue)
	if err != nil {
		return "", err
	}
	data, err := w.data(ctx, tx, nc, pol, pols)
	if err != nil {
		return "", err
	}
	data[notify.DataOwner], data[notify.DataPreviousOwner], data[notify.DataReason] = to, from, "sla:"+pol.ID
	w.logger().Info("SLA breach: lead reassigned", "lead", lead.ID, "policy", pol.ID, "from", from, "to", to)
	return to, w.emit(ctx, tx, notify.Event{Type: notify.LeadAssigned, LeadID: lead.ID, At: tx.Now, Data: data, Owner: to})
}

// emit queues ev; without an Emitter (CLI commands) the clock is still
// marked and the event dropped.
func (w *Workers) emit(ctx context.Context, tx *store.Tx, ev notify.Event) error {
	if w.Emitter == nil {
		w.logger().Info("SLA event dropped: no emitter", "type", ev.Type, "lead", ev.LeadID)
		return nil
	}
	return w.Emitter.Emit(ctx, tx, ev)
}

func (w *Workers) load(ctx context.Context, tx *store.Tx, clockID int64) (*store.SLAClock, *leadflow.Lead, *Policies, error) {
	c, err := tx.ClockByID(ctx, clockID)
	if err != nil {
		return nil, nil, nil, err
	}
	lead, err := tx.FindLead(ctx, c.LeadID)
	if err != nil {
		return nil, nil, nil, err
	}
	pols, err := w.cache.Load(ctx, tx)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, lead, pols, nil
}

// data is the event's Data: the handoff context of the lead, with the
// clock under "sla".
func (w *Workers) data(ctx context.Context, tx *store.Tx, c *store.SLAClock, pol Policy, pols *Policies) (map[string]any, error) {
	data := map[string]any{}
	if w.Context != nil {
		d, err := w.Context(ctx, tx, c.LeadID)
		if err != nil {
			return nil, err
		}
		if d != nil {
			data = d
		}
	}
	data[notify.DataSLA] = ClockData(c, pol, pols, tx.Now)
	return data, nil
}

// ClockData describes a clock for notifications and the handoff context:
// policy, target, allowed time, deadline (in the calendar's time zone) and
// the business time left as of now.
func ClockData(c *store.SLAClock, pol Policy, pols *Policies, now time.Time) map[string]any {
	loc := pols.Calendar.Location()
	d := map[string]any{
		"clock_id":   c.ID,
		"policy":     c.Policy,
		"stage":      c.Stage,
		"owner":      c.Owner,
		"status":     c.Status,
		"started_at": c.StartedAt.In(loc),
		"due_at":     c.DueAt.In(loc),
		"remaining":  pols.Remaining(now, c.DueAt).String(),
	}
	if !c.WarnAt.IsZero() {
		d["warn_at"] = c.WarnAt.In(loc)
	}
	if pol.ID != "" && pol.Target != "" {
		d["target"], d["within"] = pol.Target, pol.Within.String()
	}
	return d
}
