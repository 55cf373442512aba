package main

import (
	"context"
	"flag"
	"io"
	"log/slog"

	"github.com/leadflow/leadflow/internal/digest"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/riverqueue/river"

	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// dbFlags are the flags every command that opens the database takes.
type dbFlags struct {
	db, dataDir string
}

func (f *dbFlags) register(fs *flag.FlagSet, e env) {
	fs.StringVar(&f.db, "db", e("LEADFLOW_DB"), "database URL (postgres://…) or SQLite path")
	dd := e("LEADFLOW_DATA_DIR")
	if dd == "" {
		dd = "data"
	}
	fs.StringVar(&f.dataDir, "data-dir", dd, "data directory for the embedded SQLite database")
}

// app is an open, migrated database with the flow on top of it.
type app struct {
	db       *store.DB
	queue    *jobs.Queue
	flow     *flow.Flow
	notifier *notify.Notifier
	nurture  *nurture.Service
}

// openApp opens and migrates the database. With work set, the job queue
// works jobs (serve); otherwise it only inserts them (CLI commands).
func openApp(ctx context.Context, f dbFlags, logger *slog.Logger, work bool) (*app, error) {
	return openAppURL(ctx, f, logger, work, "")
}

// openAppURL is openApp with the public base URL used in links to leads.
func openAppURL(ctx context.Context, f dbFlags, logger *slog.Logger, work bool, baseURL string) (*app, error) {
	db, err := store.Open(ctx, store.Options{DSN: f.db, DataDir: f.dataDir})
	if err != nil {
		return nil, err
	}
	a := &app{db: db}
	if err := a.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// The notifier's workers are registered before the queue exists; it
	// gets the queue right after.
	a.notifier = notify.New(db, nil, notify.Options{Logger: logger, BaseURL: baseURL})
	slaWorkers := &sla.Workers{DB: db, Logger: logger}
	nurt := nurture.New(db, nil, nurture.Options{Logger: logger, BaseURL: baseURL})
	a.nurture = nurt
	dig := &digest.Service{DB: db, Mailer: a.notifier, BaseURL: baseURL, Logger: logger}
	var handlers *jobs.Handlers
	if work {
		handlers = &jobs.Handlers{
			Transition: func(ctx context.Context, args jobs.TransitionArgs) error {
				logger.Info("lead stage changed", "lead", args.LeadID, "from", args.From, "to", args.To, "cause", args.Cause)
				return a.flow.HandleTransition(ctx, args)
			},
			Event:      func(ctx context.Context, args jobs.EventArgs) error { return a.flow.HandleEvent(ctx, args) },
			Rescore:    func(ctx context.Context, runID int64) error { return a.flow.Rescore(ctx, runID) },
			DecaySweep: func(ctx context.Context) error { return a.flow.DecaySweep(ctx) },
			Register:   []func(*river.Workers){a.notifier.Register, slaWorkers.Register, nurt.Register, dig.Register},
			Periodic:   []*river.PeriodicJob{dig.Periodic()},
		}
	}
	if a.queue, err = jobs.New(db, handlers, jobs.Config{Logger: logger}); err != nil {
		db.Close()
		return nil, err
	}
	a.notifier.SetQueue(a.queue)
	nurt.SetQueue(a.queue)
	a.flow = flow.New(db, a.queue, logger)
	a.flow.SetEmitter(a.notifier)
	nurt.SetRecorder(a.flow)
	slaWorkers.Context, slaWorkers.Emitter = a.flow.SLAContext, a.notifier
	if err := a.flow.EnsureModel(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) migrate(ctx context.Context) error {
	if _, err := a.db.Migrate(ctx); err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, a.db); err != nil {
		return err
	}
	return a.db.CheckQueries(ctx)
}

func (a *app) Close() error { return a.db.Close() }

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags that may come after positional arguments too
// ("import leads FILE --map …").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
