// Package jobs runs leadflow's side effects and timers on River, on the
// same database as the data: a job is inserted in the transaction of the
// change that causes it, so both commit or neither does.
package jobs

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// TransitionArgs is emitted for every stage change; notifications (webhooks,
// email, chat) consume it.
type TransitionArgs struct {
	TransitionID int64          `json:"transition_id"`
	LeadID       int64          `json:"lead_id"`
	From         leadflow.Stage `json:"from"`
	To           leadflow.Stage `json:"to"`
	Cause        string         `json:"cause"`
}

// Kind implements river.JobArgs.
func (TransitionArgs) Kind() string { return "lead_transition" }

// EventArgs asks for the notifications of a lead event other than a stage
// change (assignment, touch, deal update); the worker builds the handoff
// context and fans the event out to webhooks, email and chat.
type EventArgs struct {
	Type   string         `json:"type"`
	LeadID int64          `json:"lead_id"`
	Owner  string         `json:"owner,omitempty"`
	Data   map[string]any `json:"data,omitempty"`
}

// Kind implements river.JobArgs.
func (EventArgs) Kind() string { return "lead_event" }

// RescoreArgs asks for a rescore of every lead under the active model.
type RescoreArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind implements river.JobArgs.
func (RescoreArgs) Kind() string { return "rescore" }

// InsertOpts: one rescore at a time.
func (RescoreArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, Queue: QueueRescore}
}

// DecaySweepArgs re-scores leads whose events crossed a decay step.
type DecaySweepArgs struct{}

// Kind implements river.JobArgs.
func (DecaySweepArgs) Kind() string { return "decay_sweep" }

// PackEventsArgs moves the unpacked tail of the compact scoring copy of
// events into the per-lead packs (store.PackEvents), so full rescores and
// backtests keep reading about one row per lead.
type PackEventsArgs struct{}

// Kind implements river.JobArgs.
func (PackEventsArgs) Kind() string { return "pack_events" }

// InsertOpts: on the rescore queue, one job at a time.
func (PackEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueRescore}
}

// DefaultPackInterval is how often the packing job runs by default.
const DefaultPackInterval = 10 * time.Minute

// Queues.
const (
	QueueRescore = "rescore"
)

// Handlers are the functions the workers call; the flow package provides them.
type Handlers struct {
	Transition func(ctx context.Context, args TransitionArgs) error
	Event      func(ctx context.Context, args EventArgs) error
	Rescore    func(ctx context.Context, runID int64) error
	DecaySweep func(ctx context.Context) error
	// Register adds the workers of other packages (notifications, SLA
	// timers); each package defines its own job args and workers.
	Register []func(w *river.Workers)
	// Periodic are other packages' periodic jobs (the review digest).
	Periodic []*river.PeriodicJob
}

// Queue is the River client bound to leadflow's database.
type Queue struct {
	client *river.Client[*sql.Tx]
	work   bool
}

func driver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect == store.Postgres {
		return riverdatabasesql.New(db.Write)
	}
	return riversqlite.New(db.Write)
}

// Migrate applies River's own migrations.
func Migrate(ctx context.Context, db *store.DB) error {
	m, err := rivermigrate.New(driver(db), nil)
	if err != nil {
		return leadflow.Internal(err, "river migrator")
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return leadflow.Internal(err, "river migrate")
	}
	return nil
}

// Config tunes the queue.
type Config struct {
	Logger *slog.Logger
	// DecayInterval is how often the decay sweep runs; default one minute.
	DecayInterval time.Duration
	// PackInterval is how often the compact copy's tail is packed;
	// default DefaultPackInterval.
	PackInterval time.Duration
}

// New returns a queue that works jobs with h. A zero Handlers gives an
// insert-only queue (for CLI commands).
func New(db *store.DB, h *Handlers, cfg Config) (*Queue, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rc := &river.Config{Logger: logger}
	if h != nil {
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[TransitionArgs]) error {
			if h.Transition == nil {
				return nil
			}
			return h.Transition(ctx, j.Args)
		}))
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[EventArgs]) error {
			if h.Event == nil {
				return nil
			}
			return h.Event(ctx, j.Args)
		}))
		river.AddWorker(workers, &rescoreWorker{run: h.Rescore})
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, j *river.Job[DecaySweepArgs]) error {
			return h.DecaySweep(ctx)
		}))
		river.AddWorker(workers, &packWorker{db: db})
		for _, reg := range h.Register {
			reg(workers)
		}
		interval := cfg.DecayInterval
		if interval <= 0 {
			interval = time.Minute
		}
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 4},
			QueueRescore:       {MaxWorkers: 1},
		}
		rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(interval),
			func() (river.JobArgs, *river.InsertOpts) { return DecaySweepArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true})}
		pack := cfg.PackInterval
		if pack <= 0 {
			pack = DefaultPackInterval
		}
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(pack),
			func() (river.JobArgs, *river.InsertOpts) { return PackEventsArgs{}, nil }, nil))
		rc.PeriodicJobs = append(rc.PeriodicJobs, h.Periodic...)
		// Measured in PERFORMANCE.md: River's defaults make SQLite jobs
		// trickle out at ~100/s; these keep pace with inserts.
		rc.FetchCooldown = 5 * time.Millisecond
		rc.FetchPollInterval = 50 * time.Millisecond
	}
	c, err := river.NewClient(driver(db), rc)
	if err != nil {
		return nil, leadflow.Internal(err, "river client")
	}
	return &Queue{client: c, work: h != nil}, nil
}

// Insert enqueues a job inside tx.
func (q *Queue) Insert(ctx context.Context, tx *store.Tx, args river.JobArgs) error {
	_, err := q.client.InsertTx(ctx, tx.Tx, args, nil)
	return leadflow.Internal(err, "enqueue "+args.Kind())
}

// InsertMany enqueues several jobs inside tx with one statement (River's
// SQLite driver parses its insert on every call: one call per job costs
// more than the rest of a stage change).
func (q *Queue) InsertMany(ctx context.Context, tx *store.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	_, err := q.client.InsertManyTx(ctx, tx.Tx, params)
	return leadflow.Internal(err, "enqueue jobs")
}

// Start starts working jobs (no-op for an insert-only queue).
func (q *Queue) Start(ctx context.Context) error {
	if !q.work {
		return nil
	}
	return leadflow.Internal(q.client.Start(ctx), "start jobs")
}

// Stop waits for running jobs to finish, up to the context's deadline.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.work {
		return nil
	}
	return q.client.Stop(ctx)
}

// Client exposes the River client (for tests and subscriptions).
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// rescoreWorker runs a rescore without River's default one-minute job
// timeout: a full rescore of a large database takes longer, and it saves
// its progress as it goes.
type rescoreWorker struct {
	river.WorkerDefaults[RescoreArgs]
	run func(ctx context.Context, runID int64) error
}

func (w *rescoreWorker) Work(ctx context.Context, j *river.Job[RescoreArgs]) error {
	return w.run(ctx, j.Args.RunID)
}

// Timeout implements river.Worker: no timeout.
func (w *rescoreWorker) Timeout(*river.Job[RescoreArgs]) time.Duration { return -1 }

// packWorker packs the compact copy's tail, without River's one-minute
// job timeout (the first packing of a large database takes longer).
type packWorker struct {
	river.WorkerDefaults[PackEventsArgs]
	db *store.DB
}

func (w *packWorker) Work(ctx context.Context, _ *river.Job[PackEventsArgs]) error {
	_, err := w.db.PackEvents(ctx, store.PackOptions{})
	return err
}

// Timeout implements river.Worker: no timeout.
func (w *packWorker) Timeout(*river.Job[PackEventsArgs]) time.Duration { return -1 }
