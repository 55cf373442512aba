package analytics_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/gen"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// Benchmarks run on a generated history of LEADFLOW_BENCH_LEADS leads
// (default 20,000) with 20 events each, loaded once per backend. Set
// LEADFLOW_BENCH_DB to a SQLite path or postgres:// URL that already
// holds a loaded history (e.g. from a previous run, kept with
// LEADFLOW_BENCH_KEEP=1) to skip loading.
//
//	LEADFLOW_BENCH_LEADS=1000000 go test ./internal/analytics -run '^$' -bench . -benchtime 3x -timeout 2h

var benchDBs sync.Map

func benchDB(b *testing.B, backend string) *store.DB {
	b.Helper()
	if v, ok := benchDBs.Load(backend); ok {
		return v.(*store.DB)
	}
	ctx := context.Background()
	n := 20_000
	if s := os.Getenv("LEADFLOW_BENCH_LEADS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dsn := os.Getenv("LEADFLOW_BENCH_DB")
	fresh := dsn == ""
	if fresh {
		if backend == "sqlite" && os.Getenv("LEADFLOW_BENCH_KEEP") == "1" {
			dsn = filepath.Join(os.TempDir(), "leadflow-bench-"+strconv.Itoa(n)+".db")
			_, err := os.Stat(dsn)
			fresh = err != nil
		} else {
			// A database of b alone: dropped when b ends, so forgotten then.
			dsn = storetest.DSN(b, backend)
			b.Cleanup(func() { benchDBs.Delete(backend) })
		}
	}
	db, err := store.Open(ctx, store.Options{DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if fresh {
		loadGen(b, db, gen.Config{Leads: n, Events: 20 * n, End: genEnd, Seed: 3})
	}
	if _, err := db.RefreshFunnel(ctx); err != nil {
		b.Fatal(err)
	}
	benchDBs.Store(backend, db)
	return db
}

func BenchmarkBacktest(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			db := benchDB(b, backend)
			draft := mustModel(b, "draft.yaml", hiddenModel)
			active := scoring.MustCompile("default.yaml", scoring.DefaultModel)
			b.ResetTimer()
			for b.Loop() {
				res, err := analytics.Backtest(context.Background(), db, analytics.BacktestModel{Name: "draft", Model: draft},
					&analytics.BacktestModel{Name: "default", Version: 1, Model: active},
					analytics.BacktestOptions{From: genEnd.AddDate(-1, 0, 0), To: genEnd, Capacity: 500})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(res.Events), "events")
			}
		})
	}
}

func BenchmarkKPIs(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, group := range []string{"", "campaign"} {
			b.Run(backend+"/"+group, func(b *testing.B) {
				db := benchDB(b, backend)
				p, err := analytics.ParsePeriod("2025-07-01", "2026-06-30", "Asia/Tokyo", "month", genEnd)
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					if _, err := analytics.KPIs(context.Background(), db, analytics.Query{Period: p, GroupBy: group, Now: genEnd}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
