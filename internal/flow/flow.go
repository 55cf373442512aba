// Package flow is the one place that orders what happens to a lead: for each
// incoming event or change it identifies the lead, records the event,
// scores, qualifies and enqueues the side effects, all in one transaction.
package flow

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// Flow processes events and lead changes.
type Flow struct {
	db     *store.DB
	queue  *jobs.Queue
	logger *slog.Logger

	mu     sync.Mutex
	models map[int]*scoring.Model // compiled models by version

	emitter notify.Emitter // nil: notifications are dropped (CLI commands)
	handoff handoffSources

	group groupCommit // concurrent ingestion requests (ingest.go)

	caches caches // parsed settings, routing rules, nurture sequences (caches.go)
}

// New returns a flow on db that enqueues side effects on queue.
func New(db *store.DB, queue *jobs.Queue, logger *slog.Logger) *Flow {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &Flow{db: db, queue: queue, logger: logger, models: map[int]*scoring.Model{}}
	f.handoff.sla = f.slaDeadlines
	f.handoff.owners = f.previousOwners
	return f
}

// DB returns the flow's database.
func (f *Flow) DB() *store.DB { return f.db }

// Active is the scoring model in force for one transaction.
type Active struct {
	Version int
	Model   *scoring.Model
}

// EnsureModel installs the default scoring model as version 1 on a
// database that has none.
func (f *Flow) EnsureModel(ctx context.Context) error {
	return f.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ActiveModel(ctx); err == nil {
			return nil
		} else if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			return err
		}
		m, err := scoring.Compile("default.yaml", scoring.DefaultModel)
		if err != nil {
			return leadflow.Internal(err, "default model")
		}
		v, err := tx.CreateModelVersion(ctx, m.Name, string(scoring.DefaultModel), "system")
		if err != nil {
			return err
		}
		return tx.ActivateModel(ctx, v.Version)
	})
}

// active returns the model active in tx, compiling it once per version.
func (f *Flow) active(ctx context.Context, tx *store.Tx) (Active, error) {
	mv, err := tx.ActiveModel(ctx)
	if err != nil {
		return Active{}, err
	}
	m, err := f.compiled(mv)
	return Active{Version: mv.Version, Model: m}, err
}

// ActiveModel returns the model active now.
func (f *Flow) ActiveModel(ctx context.Context) (Active, *store.ModelVersion, error) {
	mv, err := f.db.ActiveModel(ctx)
	if err != nil {
		return Active{}, nil, err
	}
	m, err := f.compiled(mv)
	return Active{Version: mv.Version, Model: m}, mv, err
}

func (f *Flow) compiled(mv *store.ModelVersion) (*scoring.Model, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.models[mv.Version]; ok {
		return m, nil
	}
	m, err := scoring.Compile(fmt.Sprintf("model v%d", mv.Version), []byte(mv.Source))
	if err != nil {
		return nil, leadflow.Internal(err, fmt.Sprintf("stored model v%d does not compile", mv.Version))
	}
	f.models[mv.Version] = m
	return m, nil
}

// Actor names who caused a change: "api:<key name>", "user:<name>",
// "cli", "system".
type Actor string

// now is the flow's clock: the transaction's fixed time.
func now(tx *store.Tx) time.Time { return tx.Now }
