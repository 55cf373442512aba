package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestKPIAggregates changes random leads (stage moves forward and jumps,
// recycles, owner, team, campaign and score changes, erasure, merges, new
// leads) in rounds, refreshing after each, and checks that the
// pre-aggregates equal a from-scratch aggregation of kpi_funnel, that
// kpi_recycles holds the recycles of the leads in kpi_funnel, and that
// cohort and score reads through them (periods and buckets that start at
// odd times) equal the same reads made from kpi_funnel alone.
func TestKPIAggregates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 11))
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := t0
		db.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		tick := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
		funnel := []leadflow.Stage{leadflow.StageLead, leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL,
			leadflow.StageHQL, leadflow.StageOpportunity, leadflow.StageCustomer}
		var ids []int64
		erased := map[int64]bool{}
		n := 0
		create := func(tx *store.Tx) error {
			n++
			l := leadflow.Lead{Email: fmt.Sprintf("a%d@example.jp", n), Industry: pick("", "it", "retail"),
				Owner: pick("", "sato", "suzuki"), Team: pick("", "east", "west"),
				Score: float64(rng.IntN(120)) - 5 + rng.Float64(),
				// Created over four days, at any minute.
				CreatedAt: t0.Add(-time.Duration(rng.IntN(4*24*60)) * time.Minute)}
			l.FirstTouch.Source, l.FirstTouch.Medium, l.FirstTouch.Campaign = pick("", "google", "yahoo"), pick("", "cpc"), pick("", "c1", "c2")
			if rng.IntN(4) == 0 { // loaded in its stage, without a transition
				l.Stage, l.StageAt = funnel[rng.IntN(len(funnel))], l.CreatedAt.Add(time.Duration(rng.IntN(600))*time.Minute)
			}
			if err := tx.CreateLead(ctx, &l); err != nil {
				return err
			}
			ids = append(ids, l.ID)
			return nil
		}
		move := func(tx *store.Tx, l *leadflow.Lead, to leadflow.Stage) error {
			at := l.CreatedAt.Add(time.Duration(rng.IntN(5*24*60)) * time.Minute)
			tr := leadflow.Transition{LeadID: l.ID, From: l.Stage, To: to, At: at, Cause: "user:test", Reason: "no-budget: later"}
			if err := tx.InsertTransition(ctx, &tr); err != nil {
				return err
			}
			l.Stage, l.StageAt = to, at
			return tx.UpdateLead(ctx, l)
		}
		round := func(k int) {
			t.Helper()
			tick(time.Minute)
			err := db.InTx(ctx, func(tx *store.Tx) error {
				for range k {
					if len(ids) < 800 || rng.IntN(6) == 0 {
						if err := create(tx); err != nil {
							return err
						}
						continue
					}
					i := rng.IntN(len(ids))
					if erased[ids[i]] {
						continue
					}
					l, err := tx.FindLead(ctx, ids[i])
					if err != nil {
						return err
					}
					switch rng.IntN(9) {
					case 0, 1: // forward, maybe skipping stages
						r := l.Stage.Rank()
						if r < 0 || r >= 6 {
							r = 0
						}
						if err := move(tx, l, funnel[min(6, r+1+rng.IntN(2))]); err != nil {
							return err
						}
					case 2:
						if err := move(tx, l, pick2(rng, leadflow.StageRecycled, leadflow.StageDisqualified)); err != nil {
							return err
						}
					case 3:
						l.Owner, l.Team = pick("", "sato", "suzuki", "tanaka"), pick("", "east", "west")
						if err := tx.UpdateLead(ctx, l); err != nil {
							return err
						}
					case 4:
						l.FirstTouch.Campaign, l.Industry = pick("", "c1", "c2", "c3"), pick("", "it", "retail")
						if err := tx.UpdateLead(ctx, l); err != nil {
							return err
						}
					case 5:
						l.Score = float64(rng.IntN(120)) + rng.Float64()
						if err := tx.UpdateLead(ctx, l); err != nil {
							return err
						}
					case 6:
						if err := tx.EraseLead(ctx, l.ID, "test"); err != nil {
							return err
						}
						erased[l.ID] = true
					case 7: // merge another lead into this one
						j := rng.IntN(len(ids))
						if j == i || erased[ids[j]] {
							continue
						}
						if err := tx.MergeLeads(ctx, l.ID, ids[j]); err != nil {
							return err
						}
						ids = append(ids[:j], ids[j+1:]...)
						if err := tx.UpdateLead(ctx, l); err != nil {
							return err
						}
					default:
						if err := create(tx); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			tick(time.Minute)
			if _, err := db.RefreshFunnel(ctx); err != nil {
				t.Fatal(err)
			}
			diff, err := db.AggMismatches(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(diff) > 0 {
				t.Fatalf("aggregates differ from kpi_funnel (%d):\n%v", len(diff), diff[:min(len(diff), 10)])
			}
			// kpi_recycles holds the recycles and disqualifications of the
			// leads in kpi_funnel with their values now.
			if diff, err := db.RecycleMismatches(ctx); err != nil || len(diff) > 0 {
				t.Fatalf("kpi_recycles: %v %v", err, diff)
			}
		}
		round(800) // 800 new leads; the first refresh builds the aggregates
		for range 12 {
			round(60)
		}
		// A merge outside any refresh, with no other change: the deleted
		// row is still subtracted.
		var live []int64
		for _, id := range ids {
			if !erased[id] {
				live = append(live, id)
			}
		}
		err := db.InTx(ctx, func(tx *store.Tx) error { return tx.MergeLeads(ctx, live[0], live[1]) })
		if err != nil {
			t.Fatal(err)
		}
		tick(time.Hour)
		if _, err := db.RefreshFunnel(ctx); err != nil {
			t.Fatal(err)
		}
		if diff, err := db.AggMismatches(ctx); err != nil || len(diff) > 0 {
			t.Fatalf("after a merge: %v %v", err, diff)
		}

		// Reads through the aggregates equal reads of kpi_funnel alone: a
		// quarter-hour unit with every unit boundary a cut reads only
		// kpi_funnel; the same period cut at a few odd times reads whole
		// days and hours from the aggregates.
		q := int64(15 * time.Minute / time.Microsecond)
		from, to := t0.Add(-5*24*time.Hour+7*time.Minute), t0.Add(3*24*time.Hour+52*time.Minute)
		cuts := []time.Time{t0.Add(-3*24*time.Hour + 15*time.Hour), t0.Add(-2*24*time.Hour + 45*time.Minute),
			t0.Add(-24 * time.Hour), t0.Add(6*time.Hour + 30*time.Minute)}
		bucket := func(unit int64) int {
			at := time.UnixMicro(unit * q)
			return sort.Search(len(cuts), func(i int) bool { return cuts[i].After(at) })
		}
		for _, g := range append([]string{""}, store.GroupColumns...) {
			sum := func(r store.KPIRange, bucket func(int64) int) map[string]int64 {
				rows, err := db.KPICohorts(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]int64{}
				for _, c := range rows {
					k := fmt.Sprintf("%s/%d/%s", c.Stage, bucket(c.Unit), c.Group)
					m[k+"/n"] += c.N
					for j, x := range c.Reached {
						m[fmt.Sprintf("%s/r%d", k, j)] += x
					}
					m[k+"/rec"] += c.Recycled
					m[k+"/q"] += c.Qualified
					m[k+"/z"] += c.Zero
				}
				scores, err := db.KPIScores(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range scores {
					m[fmt.Sprintf("score/%s/%d", s.Group, s.Bin)] += s.N
				}
				for k, v := range m {
					if v == 0 {
						delete(m, k)
					}
				}
				return m
			}
			raw := sum(store.KPIRange{From: from, To: to, Granularity: q, Group: g}, bucket)
			agg := sum(store.KPIRange{From: from, To: to, Granularity: q, Group: g, Cuts: cuts}, bucket)
			if fmt.Sprint(raw) != fmt.Sprint(agg) {
				t.Fatalf("group %q: from kpi_funnel %v\nthrough the aggregates %v", g, raw, agg)
			}
			if len(raw) < 20 {
				t.Fatalf("group %q: too few figures to compare: %v", g, raw)
			}
			// The whole period in one piece: eight days, read partly from
			// the rows of 4-day blocks.
			whole := func(int64) int { return 0 }
			raw = sum(store.KPIRange{From: from, To: to, Granularity: q, Group: g}, whole)
			agg = sum(store.KPIRange{From: from, To: to, Granularity: q, Group: g, Cuts: []time.Time{}}, whole)
			if fmt.Sprint(raw) != fmt.Sprint(agg) {
				t.Fatalf("group %q, one piece: from kpi_funnel %v\nthrough the aggregates %v", g, raw, agg)
			}
			// The score bins (read through the day and block rows) against
			// kpi_funnel itself.
			col := g
			if col == "" {
				col = "''"
			}
			rows, err := db.Read.QueryContext(ctx, db.Dialect.Rebind(`SELECT `+col+`, floor(score / 10), count(*) FROM kpi_funnel
				WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2`), from.UnixMicro(), to.UnixMicro())
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{}
			for rows.Next() {
				var val string
				var bin float64
				var n int64
				if err := rows.Scan(&val, &bin, &n); err != nil {
					t.Fatal(err)
				}
				want[fmt.Sprintf("score/%s/%d", val, int(bin))] = n
			}
			rows.Close()
			for k, v := range agg {
				if strings.HasPrefix(k, "score/") && want[k] != v {
					t.Fatalf("group %q: %s = %d, kpi_funnel has %d", g, k, v, want[k])
				}
				delete(want, k)
			}
			if len(want) > 0 {
				t.Fatalf("group %q: score bins missing: %v", g, want)
			}
		}
	})
}

func pick2(rng *rand.Rand, a, b leadflow.Stage) leadflow.Stage {
	if rng.IntN(2) == 0 {
		return a
	}
	return b
}
