package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// After a write, an idle SQLite writer has its WAL copied to the database
// file, once: until the next write there is nothing new to copy.
func TestIdleCheckpoint(t *testing.T) {
	idleCheckpoint = 20 * time.Millisecond
	t.Cleanup(func() { idleCheckpoint = 2 * time.Second })
	ctx := context.Background()
	db, err := Open(ctx, Options{DSN: filepath.Join(t.TempDir(), "ckpt.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); db.ckpt.runs.Load() < want; {
			if time.Now().After(deadline) {
				t.Fatalf("%d checkpoints, want %d", db.ckpt.runs.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	write := func() {
		t.Helper()
		if err := db.InTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS t (x); INSERT INTO t VALUES (1)")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	write()
	runs(1)
	time.Sleep(10 * idleCheckpoint)
	if n := db.ckpt.runs.Load(); n != 1 {
		t.Fatalf("%d checkpoints without a write in between, want 1", n)
	}
	write()
	runs(2)
}
