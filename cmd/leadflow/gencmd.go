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

// cmdGen loads a deterministic synthetic history through the normal
// ingestion path (for demos, load tests and backtests).
func cmdGen(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gen", stderr)
	var dbf dbFlags
	dbf.register(fs, e)
	leads := fs.Int("leads", 10000, "number of leads")
	events := fs.Int("events", 0, "number of events (default 20 per lead)")
	days := fs.Int("days", 365, "history length in days")
	seed := fs.Int64("seed", 1, "seed: the same flags give the same history")
	outcomes := fs.Bool("outcomes", true, "move leads to opportunity/customer as the hidden rule says")
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
	if err := a.db.InTx(ctx, func(tx *store.Tx) error {
		_, key, err = tx.CreateSource(ctx, "gen")
		return err
	}); err != nil {
		return err
	}
	cfg := gen.Config{Leads: *leads, Events: *events, Days: *days, Seed: *seed, End: time.Now().UTC().Truncate(time.Hour)}
	bar := progressbar.NewOptions(*leads, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("loading leads"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	start := time.Now()
	n, err := loadHistory(ctx, a, key, cfg, *outcomes, func(i int) { _ = bar.Set(i) })
	_ = bar.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded %d leads in %s\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
