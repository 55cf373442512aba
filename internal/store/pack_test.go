package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestPacksFollowEvents is a property test of the packed copy (migration
// 00013): random histories of new events, identifies, merges, erasures,
// event changes and deletes (one row and many in a statement), with
// packing interleaved, must leave packs + tail equal to the events table's
// projection after every step.
func TestPacksFollowEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(13, 7))
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var src *store.Source
		var leads []int64 // live (not merged away, not erased)
		var all []int64
		anons := []string{}
		n := 0
		mustTx := func(fn func(tx *store.Tx) error) {
			t.Helper()
			if err := db.InTx(ctx, fn); err != nil {
				t.Fatal(err)
			}
		}
		mustTx(func(tx *store.Tx) error {
			var err error
			src, _, err = tx.CreateSource(ctx, "web")
			return err
		})
		newLead := func(tx *store.Tx) (int64, error) {
			l := &leadflow.Lead{Email: fmt.Sprintf("l%d@x.co", len(all))}
			if err := tx.CreateLead(ctx, l); err != nil {
				return 0, err
			}
			leads, all = append(leads, l.ID), append(all, l.ID)
			return l.ID, nil
		}
		paths := []string{"/pricing", "/docs", "/", "/blog/a"}
		insert := func(tx *store.Tx, lead int64, anon string) error {
			n++
			e := &leadflow.Event{MessageID: "m" + strconv.Itoa(n), SourceID: src.ID, LeadID: lead, AnonymousID: anon,
				Timestamp: t0.Add(time.Duration(rng.IntN(500)) * time.Hour), ReceivedAt: t0}
			if rng.IntN(3) == 0 {
				e.Type, e.Name = leadflow.EventTrack, []string{"Demo Requested", "Webinar Attended"}[rng.IntN(2)]
			} else {
				e.Type, e.Properties = leadflow.EventPage, map[string]any{"path": paths[rng.IntN(len(paths))]}
			}
			_, err := tx.InsertEvent(ctx, e)
			return err
		}
		mustTx(func(tx *store.Tx) error {
			for range 4 {
				if _, err := newLead(tx); err != nil {
					return err
				}
			}
			return nil
		})
		exec := func(q string, args ...any) {
			t.Helper()
			if db.Dialect == store.Postgres {
				q = store.Postgres.Rebind(q)
			}
			if _, err := db.Write.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		packs := 0
		for step := range 160 {
			op := rng.IntN(10)
			switch {
			case op < 4: // new events
				mustTx(func(tx *store.Tx) error {
					for range 1 + rng.IntN(6) {
						switch {
						case rng.IntN(5) == 0:
							a := "anon-" + strconv.Itoa(rng.IntN(4))
							anons = append(anons, a)
							if err := insert(tx, 0, a); err != nil {
								return err
							}
						case rng.IntN(8) == 0 || len(leads) == 0:
							if _, err := newLead(tx); err != nil {
								return err
							}
						default:
							if err := insert(tx, leads[rng.IntN(len(leads))], ""); err != nil {
								return err
							}
						}
					}
					return nil
				})
			case op == 4 && len(anons) > 0 && len(leads) > 0: // identify
				mustTx(func(tx *store.Tx) error {
					_, err := tx.AttachAnonymous(ctx, anons[rng.IntN(len(anons))], leads[rng.IntN(len(leads))])
					return err
				})
			case op == 5 && len(leads) > 1: // merge
				i, j := rng.IntN(len(leads)), rng.IntN(len(leads))
				if i == j {
					continue
				}
				into, from := leads[i], leads[j]
				mustTx(func(tx *store.Tx) error { return tx.MergeLeads(ctx, into, from) })
				leads = append(leads[:j], leads[j+1:]...)
			case op == 6 && len(leads) > 2 && rng.IntN(3) == 0: // erase
				i := rng.IntN(len(leads))
				id := leads[i]
				mustTx(func(tx *store.Tx) error { return tx.EraseLead(ctx, id, "test") })
				leads = append(leads[:i], leads[i+1:]...)
			case op == 7 && len(leads) > 0: // change events: one, or all of a lead at once
				id := leads[rng.IntN(len(leads))]
				switch rng.IntN(4) {
				case 0:
					exec("UPDATE events SET ts = ts + 3600000000 WHERE id = (SELECT max(id) FROM events WHERE lead_id = ?)", id)
				case 1:
					exec("UPDATE events SET ts = ts - 7200000000 WHERE lead_id = ?", id)
				case 2:
					exec(`UPDATE events SET properties = '{"path":"/changed"}' WHERE lead_id = ? AND type = 'page'`, id)
				default:
					if len(leads) > 1 { // a partial move of some events to another lead
						to := leads[rng.IntN(len(leads))]
						exec("UPDATE events SET lead_id = ? WHERE lead_id = ? AND id % 2 = 0", to, id)
					}
				}
			case op == 8 && len(leads) > 0: // delete events
				id := leads[rng.IntN(len(leads))]
				if rng.IntN(2) == 0 {
					exec("DELETE FROM events WHERE id = (SELECT min(id) FROM events WHERE lead_id = ?)", id)
				} else {
					exec("DELETE FROM events WHERE lead_id = ? AND id % 3 = 0", id)
				}
			default: // pack, in small batches now and then
				st, err := db.PackEvents(ctx, store.PackOptions{BatchRows: 1 + rng.IntN(30)})
				if err != nil {
					t.Fatalf("step %d: pack: %v", step, err)
				}
				if st.Events > 0 {
					packs++
				}
			}
			checkCompact(t, db, all...)
			checkCompactTotal(t, db, all[len(all)-1])
		}
		if packs < 5 {
			t.Fatalf("only %d packings moved rows: the test does not exercise packs", packs)
		}
		if _, err := db.PackEvents(ctx, store.PackOptions{}); err != nil {
			t.Fatal(err)
		}
		c, err := db.CountPacks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Tail != 0 || c.Packs == 0 {
			t.Fatalf("after a full packing: %+v", c)
		}
		checkCompact(t, db, all...)
		checkCompactTotal(t, db, all[len(all)-1])
	})
}

// checkCompactTotal requires as many compact events in all lead ranges as
// events with a lead.
func checkCompactTotal(t *testing.T, db *store.DB, maxLead int64) {
	t.Helper()
	ctx := context.Background()
	k := 0
	if err := db.ScanCompact(ctx, 0, maxLead, func(*store.CompactEvent) error { k++; return nil }); err != nil {
		t.Fatal(err)
	}
	var want int
	if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE lead_id IS NOT NULL").Scan(&want); err != nil {
		t.Fatal(err)
	}
	if k != want {
		t.Fatalf("%d compact events, %d events with a lead", k, want)
	}
}

func TestPackEncoding(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	// A pack made by PackEvents decodes to the events, in order, with
	// negative times and large ids.
	var ids []int64
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		src, _, err := tx.CreateSource(ctx, "web")
		if err != nil {
			return err
		}
		l := &leadflow.Lead{Email: "a@b.co"}
		if err := tx.CreateLead(ctx, l); err != nil {
			return err
		}
		for i, ts := range []time.Time{time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)} {
			e := &leadflow.Event{MessageID: "m" + strconv.Itoa(i), SourceID: src.ID, LeadID: l.ID, Type: leadflow.EventTrack,
				Name: "X", Timestamp: ts, ReceivedAt: ts}
			if _, err := tx.InsertEvent(ctx, e); err != nil {
				return err
			}
		}
		ids = append(ids, l.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st, err := db.PackEvents(ctx, store.PackOptions{})
	if err != nil || st.Events != 3 || st.Leads != 1 {
		t.Fatalf("pack: %+v %v", st, err)
	}
	checkCompact(t, db, ids...)
	if _, err := db.Write.ExecContext(ctx, "UPDATE event_packs SET data = X'0105'"); err != nil {
		t.Fatal(err)
	}
	err = db.ScanCompact(ctx, 0, ids[0], func(*store.CompactEvent) error { return nil })
	if leadflow.ErrorCode(err) != leadflow.EINTERNAL {
		t.Fatalf("a corrupt pack: %v, want an internal error", err)
	}
}
