package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/gen"
	"github.com/leadflow/leadflow/internal/store"
)

// cmdGen loads a deterministic synthetic history (for demos, load tests and
// backtests): by default straight into the tables in large transactions and
// then scored with the bulk rescore; with --bulk=false through the normal
// ingestion path, message by message.
func cmdGen(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	leads := fs.Int("leads", 10000, "number of leads")
	events := fs.Int("events", 0, "number of events (default 20 per lead)")
	days := fs.Int("days", 365, "history length in days")
	seed := fs.Int64("seed", 1, "seed: the same flags give the same history")
	outcomes := fs.Bool("outcomes", true, "move leads to opportunity/customer as the hidden rule says")
	bulk := fs.Bool("bulk", true, "load straight into the tables (COPY / multi-row INSERT), then score every lead with the bulk rescore; false: through ingestion")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *leads <= 0 || *events < 0 || *days <= 0 {
		return fmt.Errorf("gen: --leads and --days must be positive, --events not negative")
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	var key string
	var src *store.Source
	if err := a.db.InTx(ctx, func(tx *store.Tx) error {
		src, key, err = tx.CreateSource(ctx, "gen")
		return err
	}); err != nil {
		return err
	}
	cfg := gen.Config{Leads: *leads, Events: *events, Days: *days, Seed: *seed, End: time.Now().UTC().Truncate(time.Hour)}
	bar := progressbar.NewOptions(*leads, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("loading leads"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	start := time.Now()
	if !*bulk {
		n, err := loadHistory(ctx, a, key, cfg, *outcomes, func(i int) { _ = bar.Set(i) })
		_ = bar.Finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "loaded %d leads in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	}
	nl, ne, err := bulkLoadHistory(ctx, a, src.ID, cfg, *outcomes, func(i int) { _ = bar.Set(i) })
	_ = bar.Finish()
	if err != nil {
		return err
	}
	loaded := time.Since(start)
	fmt.Fprintf(stdout, "loaded %d leads, %d events in %s (%.0f events/s)\n", nl, ne, loaded.Round(time.Millisecond),
		float64(ne)/loaded.Seconds())
	run, err := a.flow.NewRescoreRun(ctx)
	if err != nil {
		return err
	}
	st, err := bulkRescoreWithProgress(ctx, a, run, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scored %d leads from %d events in %s: %d scores written, %d stage changes (rescore run %d)\n",
		st.Leads, st.Events, st.Elapsed.Round(time.Millisecond), st.Changed, st.Transitions, run.ID)
	return nil
}

// bulkLoadHistory writes a generated history with store.Loader. With
// outcomes, sales' side of the story is written as the leads' final state:
// BANT for leads that reached SQL, and opportunity, customer or recycled
// (a lost deal) as their stage; the automatic stages come from scoring.
func bulkLoadHistory(ctx context.Context, a *app, sourceID int64, cfg gen.Config, outcomes bool, tick func(int)) (int64, int64, error) {
	ld, err := a.db.NewLoader(ctx, sourceID)
	if err != nil {
		return 0, 0, err
	}
	count := 0
	err = gen.Generate(cfg, func(rec *gen.Record) error {
		l := rec.Lead
		if outcomes {
			o := rec.Outcome
			if o.SQLAt != nil {
				b := o.BANT
				if b.Timeline != nil {
					t := *b.Timeline
					b.Timeline = &t
				}
				l.BANT = b
			}
			switch {
			case o.WonAt != nil:
				l.Stage, l.StageAt = leadflow.StageCustomer, *o.WonAt
			case o.LostAt != nil:
				l.Stage, l.StageAt = leadflow.StageRecycled, *o.LostAt
			case o.OpportunityAt != nil:
				l.Stage, l.StageAt = leadflow.StageOpportunity, *o.OpportunityAt
			}
		}
		if err := ld.Add(ctx, &l, rec.Events); err != nil {
			return err
		}
		count++
		if tick != nil && count%1000 == 0 {
			tick(count)
		}
		return nil
	})
	if err == nil {
		err = ld.Close(ctx)
	}
	return ld.Leads, ld.Events, err
}
