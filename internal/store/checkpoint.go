package store

import (
	"context"
	"sync/atomic"
	"time"
)

// SQLite's WAL is checkpointed by the committing connection once it holds
// walPages pages (wal_autocheckpoint). Far more than SQLite's default of
// 1,000: under a burst of ingestion most pages a commit writes (the recent
// end of the indexes, the rows of active leads) are written again by the
// next commits, and the checkpoint copies each to the database file once
// however often the WAL holds it (600,000 events over HTTP: 15.5 KB
// written per event with 20,000 pages, 12.3 KB with 200,000; see
// docs/benchmarks.md). The WAL may then grow to 800 MB during a burst; it
// is truncated back to walKeepBytes when it restarts.
const (
	walPages     = 200_000
	walKeepBytes = 64 << 20
)

// idleCheckpoint is how long the writer must have been idle before the
// checkpointer copies the WAL to the database file: a reader then reads
// the file alone instead of looking every page up in a large WAL index.
// A variable for tests.
var idleCheckpoint = 2 * time.Second

// checkpointer checkpoints an idle SQLite database's WAL (PASSIVE: it
// waits for no reader and no writer).
type checkpointer struct {
	wrote atomic.Int64 // unix nanoseconds of the last commit through InTx
	runs  atomic.Int64 // complete checkpoints made
	stop  chan struct{}
	done  chan struct{}
}

func (db *DB) startCheckpointer() {
	c := &checkpointer{stop: make(chan struct{}), done: make(chan struct{})}
	db.ckpt = c
	idle := idleCheckpoint
	go func() {
		defer close(c.done)
		t := time.NewTicker(idle)
		defer t.Stop()
		var done int64 // the commit time last checkpointed after
		for {
			select {
			case <-c.stop:
				return
			case now := <-t.C:
				w := c.wrote.Load()
				if w == done || now.UnixNano()-w < int64(idle) {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				var busy, frames, copied int
				err := db.Write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
				cancel()
				if err == nil && busy == 0 && copied == frames {
					done = w
					c.runs.Add(1)
				}
			}
		}
	}()
}

// committed notes a commit for the checkpointer.
func (db *DB) committed() {
	if db.ckpt != nil {
		db.ckpt.wrote.Store(time.Now().UnixNano())
	}
}

// stopCheckpointer stops the checkpointer and waits for it.
func (db *DB) stopCheckpointer() {
	if db.ckpt != nil {
		close(db.ckpt.stop)
		<-db.ckpt.done
		db.ckpt = nil
	}
}
