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
// rewrites: leads changed in the clock tick of the last refresh again
// (the clock here stands still between changes and refreshes) only until
// a refresh has run more than the margin (10 minutes) after them, then
// nothing, and a transaction that commits late, with an updated_at before
// the watermark, is still picked up (alone: the lead changed before it
// is up to date).
// funnelClock is a clock for db that stands still between the steps of a
// test, and runs kpi_funnel refreshes at given times.
type funnelClock struct {
	db  *store.DB
	t0  time.Time
	mu  sync.Mutex
	now time.Time
}

func newFunnelClock(db *store.DB) *funnelClock {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := &funnelClock{db: db, t0: t0, now: t0}
	db.Now = func() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
	return c
}

// set moves the clock to t0+d.
func (c *funnelClock) set(d time.Duration) {
	c.mu.Lock()
	c.now = c.t0.Add(d)
	c.mu.Unlock()
}

// refresh returns a step that refreshes at t0+at and checks that the
// refresh rewrote want leads.
func (c *funnelClock) refresh(t *testing.T) func(at time.Duration, want int64) {
	return func(at time.Duration, want int64) {
		t.Helper()
		c.set(at)
		got, err := c.db.RefreshFunnel(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("refresh at t0+%s rewrote %d leads, want %d", at, got, want)
		}
	}
}

func TestRefreshFunnelWatermark(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newFunnelClock(db)
		t0, set, refresh := c.t0, c.set, c.refresh(t)
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
		refresh(32*time.Minute, 1)
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

// TestRefreshFunnelAfterBulkChange: after a bulk change (every lead's
// updated_at moves) one refresh rewrites every lead and the next ones,
// still within the margin, none; a late commit among them and a lead
// changed again are still rewritten, and kpi_funnel and the aggregates
// follow.
func TestRefreshFunnelAfterBulkChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newFunnelClock(db)
		t0, set, refresh := c.t0, c.set, c.refresh(t)
		var leads []*leadflow.Lead
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := range 40 {
				l := &leadflow.Lead{Email: fmt.Sprintf("b%d@example.jp", i), CreatedAt: t0.Add(-time.Duration(i) * time.Hour), Score: 5}
				if err := tx.CreateLead(ctx, l); err != nil {
					return err
				}
				leads = append(leads, l)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rescore := func(at time.Duration, score float64, ls ...*leadflow.Lead) {
			t.Helper()
			set(at)
			err := db.InTx(ctx, func(tx *store.Tx) error {
				for _, l := range ls {
					l.Score = score
					if err := tx.UpdateLead(ctx, l); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// bins counts the leads of kpi_funnel by score bin.
		bins := func() map[int]int64 {
			t.Helper()
			r := store.KPIRange{From: t0.Add(-48 * time.Hour), To: t0.Add(time.Hour), Granularity: int64(time.Hour / time.Microsecond)}
			rows, err := db.KPIScores(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			out := map[int]int64{}
			for _, x := range rows {
				out[x.Bin] += x.N
			}
			if bad, err := db.AggMismatches(ctx); err != nil || len(bad) > 0 {
				t.Fatalf("aggregates differ from kpi_funnel (%v): %v", err, bad)
			}
			return out
		}
		refresh(time.Minute, 40)
		rescore(2*time.Minute, 55, leads...) // the bulk change
		refresh(3*time.Minute, 40)
		refresh(4*time.Minute, 0) // within the margin of the burst: nothing stale
		refresh(5*time.Minute, 0)
		if got := bins(); got[5] != 40 || len(got) != 1 {
			t.Fatalf("score bins after the bulk change: %v, want 40 in bin 5", got)
		}
		set(6 * time.Minute)
		rescore(6*time.Minute, 75, leads[3])
		// A transaction that began before the last refresh (t0+5m) commits
		// now, with an updated_at before the watermark (t0+6m).
		rescore(4*time.Minute+30*time.Second, 95, leads[7])
		refresh(7*time.Minute, 2)
		refresh(8*time.Minute, 0)
		if got := bins(); got[5] != 38 || got[7] != 1 || got[9] != 1 {
			t.Fatalf("score bins after the late commit: %v, want 38 in bin 5, 1 in 7 and 9", got)
		}
	})
}
