package jobs_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestPeriodicPacking runs the queue with a short packing interval and
// waits for the periodic pack_events job to move the compact copy's tail
// into packs.
func TestPeriodicPacking(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			src, _, err := tx.CreateSource(ctx, "web")
			if err != nil {
				return err
			}
			l := &leadflow.Lead{Email: "a@b.co"}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			for i := range 5 {
				e := &leadflow.Event{MessageID: "m" + strconv.Itoa(i), SourceID: src.ID, LeadID: l.ID, Type: leadflow.EventTrack,
					Name: "Demo Requested", Timestamp: time.Now().Add(-time.Duration(i) * time.Hour), ReceivedAt: time.Now()}
				if _, err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if c, err := db.CountPacks(ctx); err != nil || c.Tail != 5 || c.Packs != 0 {
			t.Fatalf("before: %+v, %v", c, err)
		}
		noop := func(context.Context) error { return nil }
		q, err := jobs.New(db, &jobs.Handlers{Rescore: func(context.Context, int64) error { return nil }, DecaySweep: noop},
			jobs.Config{PackInterval: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(sctx)
		})
		deadline := time.Now().Add(30 * time.Second)
		for {
			c, err := db.CountPacks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.Tail == 0 && c.Packs == 1 && c.Packed == 5 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the periodic packing did not run: %+v", c)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
