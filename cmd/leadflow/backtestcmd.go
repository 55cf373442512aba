package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/scoring"
)

const backtestUsage = `usage: leadflow model backtest DRAFT.yaml --from DATE --to DATE [flags]

Replays the events of the leads created from --from to --to (dates are
inclusive, in --tz) through DRAFT.yaml and the active model, without
changing anything, and prints for each threshold MQLs per month, the share
of those MQLs that became SQL / customers, the share of won deals caught
before they were won, and F-beta; then the recommended thresholds and the
leads that would move in or out. See docs/backtest.md.

flags:
`

// cmdBacktest is `leadflow model backtest DRAFT.yaml --from … --to …`.
func cmdBacktest(ctx context.Context, e env, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("model backtest", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backtestUsage); fs.PrintDefaults() }
	var dbf dbFlags
	dbf.register(fs, e)
	from := fs.String("from", "", "first day of the cohort (YYYY-MM-DD or RFC 3339); required")
	to := fs.String("to", "", "last day of the cohort, inclusive (YYYY-MM-DD or RFC 3339, exclusive); required")
	tz := fs.String("tz", "UTC", "time zone of the dates and months, e.g. Asia/Tokyo")
	thresholds := fs.String("thresholds", "10:150:5", "thresholds to try: from:to:step or a list 30,50,70")
	capacity := fs.Float64("capacity", 0, "MQLs per month sales can take (recommends a threshold for it)")
	beta := fs.Float64("beta", 1, "F-beta weight: 1 balances precision and recall, 2 favours recall")
	outcome := fs.String("outcome", "customer", "what a good MQL becomes: customer or sql")
	compareAt := fs.Float64("compare-at", 0, "draft threshold for the changes against the active model (default: the draft's own)")
	format := fs.String("format", "table", "output: table, json or csv")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	if *from == "" || *to == "" {
		fmt.Fprintln(stderr, "model backtest: --from and --to are required")
		return errUsage
	}
	switch *format {
	case "table", "json", "csv":
	default:
		fmt.Fprintf(stderr, "model backtest: unknown --format %q (table, json or csv)\n", *format)
		return errUsage
	}
	src, err := readFileArg(pos[0])
	if err != nil {
		return err
	}
	draft, err := scoring.Compile(filepath.Base(pos[0]), src)
	if err != nil {
		return err
	}
	p, err := analytics.ParsePeriod(*from, *to, *tz, "", time.Now())
	if err != nil {
		return err
	}
	ts, err := analytics.ParseThresholds(*thresholds)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, dbf, newLogger(io.Discard), false)
	if err != nil {
		return err
	}
	defer a.Close()
	act, mv, err := a.flow.ActiveModel(ctx)
	if err != nil {
		return err
	}
	res, err := analytics.Backtest(ctx, a.db, analytics.BacktestModel{Name: draft.Name, Model: draft},
		&analytics.BacktestModel{Name: mv.Name, Version: mv.Version, Model: act.Model},
		analytics.BacktestOptions{From: p.From, To: p.To, Loc: p.Loc, Thresholds: ts, Capacity: *capacity,
			Beta: *beta, Outcome: *outcome, CompareAt: *compareAt})
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "csv":
		return analytics.WriteBacktestCSV(stdout, res)
	}
	return analytics.WriteBacktestTable(stdout, res)
}
