package storetest

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/store"
)

// BenchDB opens and migrates the generated data set a benchmark runs on:
// the database named by LEADFLOW_BENCH_DB (a DSN) or LEADFLOW_BENCH_DATA_DIR
// (an embedded SQLite data dir), closed at the end of the benchmark. It
// skips the benchmark when neither is set.
func BenchDB(b *testing.B) *store.DB {
	b.Helper()
	dsn, dir := os.Getenv("LEADFLOW_BENCH_DB"), os.Getenv("LEADFLOW_BENCH_DATA_DIR")
	if dsn == "" && dir == "" {
		b.Skip("set LEADFLOW_BENCH_DB or LEADFLOW_BENCH_DATA_DIR to a generated data set")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DSN: dsn, DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}

// CPUTime is the user and system CPU time of this process: on a shared
// machine it says more than the wall time (benchmarks report it per
// operation).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
