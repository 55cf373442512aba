package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestRefreshFunnelWatermark checks which leads each kpi_funnel refresh
// looks at: a burst of changes again only until a refresh has run more
// than the margin (10 minutes) after it, then nothing, and a transaction
// that commits late, with an updated_at before the watermark, is still
// picked up.
func TestRefreshFunnelWatermark(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := t0
		set := func(d time.Duration) {
			mu.Lock()
			now = t0.Add(d)
			mu.Unlock()
		}
		db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		n := 0
		add := func(k int) {
			t.Helper()
			err := db.InTx(ctx, func(tx *store.Tx) error {
				for range k {
					n++
					l := leadflow.Lead{Email: fmt.Sprintf("w%d@example.jp", n), CreatedAt: tx.Now}
					if err := tx.CreateLead(ctx, &l); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		refresh := func(at time.Duration, want int64) {
			t.Helper()
			set(at)
			got, err := db.RefreshFunnel(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("refresh at t0+%s looked at %d leads, want %d", at, got, want)
			}
		}
		add(3)
		refresh(0, 3)
		refresh(20*time.Minute, 3) // the last refresh was within the margin of the burst
		refresh(21*time.Minute, 0) // now it is not
		refresh(22*time.Minute, 0)
		set(30 * time.Minute)
		add(1)
		refresh(31*time.Minute, 1)
		set(25 * time.Minute) // a transaction that began at t0+25m commits now
		add(1)
		refresh(32*time.Minute, 2)
		r := store.KPIRange{From: t0.Add(-time.Hour), To: t0.Add(time.Hour), Granularity: int64(time.Hour / time.Microsecond)}
		rows, err := db.KPICohorts(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		var leads int64
		for _, c := range rows {
			if c.Stage == "lead" {
				leads += c.N
			}
		}
		if leads != 5 {
			t.Fatalf("kpi_funnel counts %d leads, want 5", leads)
		}
	})
}
