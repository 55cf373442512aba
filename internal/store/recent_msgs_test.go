package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

// A message repeating one of the last stored is known by its id alone; an
// older one needs its client time too (the unique index). The window is
// rebuilt from the database by a new process.
func TestRecentMessageWindow(t *testing.T) {
	recentMax = 4
	t.Cleanup(func() { recentMax = 1 << 18 })
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "recent.db")
	db, err := Open(ctx, Options{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	insert := func(db *DB, msg string, client time.Time) bool {
		t.Helper()
		row := []EventRow{{Event: &leadflow.Event{SourceID: 1, MessageID: msg, AnonymousID: "a", Type: leadflow.EventPage,
			Timestamp: client, ReceivedAt: client, ClientTime: client}}}
		if err := db.InTx(ctx, func(tx *Tx) error { return tx.InsertEvents(ctx, row) }); err != nil {
			t.Fatal(err)
		}
		return row[0].New
	}
	for i := range 6 {
		if !insert(db, fmt.Sprint("m", i), t0) {
			t.Fatalf("m%d not stored", i)
		}
	}
	later := t0.Add(time.Hour)
	if insert(db, "m5", later) {
		t.Error("m5 (recent) with another client time was stored again")
	}
	if insert(db, "m0", t0) {
		t.Error("m0 with its client time was stored again")
	}
	if !insert(db, "m0", later) {
		t.Error("m0 (out of the window) with another client time is another message")
	}
	db.Close()
	db, err = Open(ctx, Options{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if insert(db, "m4", later) {
		t.Error("after a restart, m4 (recent) with another client time was stored again")
	}
}
