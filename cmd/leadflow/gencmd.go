package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

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

// bulkLoadHistory writes a generated history with gen.Load. With
// outcomes, sales' side of the story is written too: BANT for leads that
// reached SQL, their stage changes (MQL, SAL, SQL, opportunity, customer or
// recycled for a lost deal, with their times) and deals; scoring then adds
// the automatic stages the history did not reach.
func bulkLoadHistory(ctx context.Context, a *app, sourceID int64, cfg gen.Config, outcomes bool, tick func(int)) (int64, int64, error) {
	st, err := gen.Load(ctx, a.db, sourceID, cfg, outcomes, tick)
	return st.Leads, st.Events, err
}
