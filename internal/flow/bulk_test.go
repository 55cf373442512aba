package flow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/gen"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// bulkClock is the fixed "now" of the bulk tests: the generated history
// ends an hour before it.
var bulkClock = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// loadGenerated opens a fresh database on backend with a generated history
// loaded by store.Loader (leads unscored, as gen --bulk leaves them).
func loadGenerated(tb testing.TB, backend string, leads, events int) *Flow {
	tb.Helper()
	ctx := context.Background()
	db := storetest.Open(tb, backend)
	db.Now = func() time.Time { return bulkClock }
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	f := New(db, q, nil)
	if err := f.EnsureModel(ctx); err != nil {
		tb.Fatal(err)
	}
	var src *store.Source
	if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
		src, _, err = tx.CreateSource(ctx, "gen")
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	ld, err := db.NewLoader(ctx, src.ID)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := gen.Config{Leads: leads, Events: events, Seed: 7, End: bulkClock.Add(-time.Hour)}
	if err := gen.Generate(cfg, func(rec *gen.Record) error {
		l := rec.Lead
		if o := rec.Outcome; o.SQLAt != nil {
			l.BANT = o.BANT
			if o.BANT.Timeline != nil {
				t := *o.BANT.Timeline
				l.BANT.Timeline = &t
			}
		}
		return ld.Add(ctx, &l, rec.Events)
	}); err != nil {
		tb.Fatal(err)
	}
	if err := ld.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	return f
}

// newModel is the default model with other points, a lower MQL bar and a
// rule on a property the default model does not read, so that applying it
// changes most scores and moves some leads.
var newModel = strings.NewReplacer(
	"points: 15\n  - id: decision-maker", "points: 25\n  - id: decision-maker",
	"mql: score >= 50", "mql: score >= 40",
	"  - id: unsubscribed\n", "  - id: case-study\n    when: event.type == \"page\" && event.properties.path.startsWith(\"/case\")\n    points: 4\n    max: 12\n  - id: unsubscribed\n",
).Replace(string(scoring.DefaultModel))

type leadScore struct {
	Score, Fit, Behavior float64
	NextDecay            time.Time
	Stage                leadflow.Stage
}

// allScores reads every lead's stored score state.
func allScores(tb testing.TB, f *Flow) map[int64]leadScore {
	tb.Helper()
	ctx := context.Background()
	out := map[int64]leadScore{}
	end, err := f.db.ChunkEnd(ctx, 0, 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	leads, err := f.db.LeadsInRange(ctx, 0, end)
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range leads {
		out[l.ID] = leadScore{l.Score, l.FitScore, l.BehaviorScore, l.NextDecayAt, l.Stage}
	}
	return out
}

// transitionCauses counts transitions by cause and target stage.
func transitionCauses(tb testing.TB, f *Flow, ids map[int64]leadScore) map[string]int {
	tb.Helper()
	out := map[string]int{}
	for id := range ids {
		ts, err := f.db.TransitionsOfLead(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		for _, t := range ts {
			out[t.Cause+" → "+string(t.To)]++
		}
	}
	return out
}

func applyModel(tb testing.TB, f *Flow, src string) *store.RescoreRun {
	tb.Helper()
	_, run, err := f.ApplyModel(context.Background(), "new.yaml", []byte(src), "test")
	if err != nil {
		tb.Fatal(err)
	}
	return run
}

// TestBulkRescoreMatchesPerLead loads the same generated history twice,
// scores it and applies a new model, once with the bulk rescore and once
// with the per-lead unit path, and wants the same score, fit, behavior,
// next decay and stage for every lead, and the same transitions.
func TestBulkRescoreMatchesPerLead(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			bulk := loadGenerated(t, backend, 600, 12000)
			each := loadGenerated(t, backend, 600, 12000)
			for _, f := range []*Flow{bulk, each} {
				run, err := f.NewRescoreRun(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if f == bulk {
					_, err = f.RescoreBulk(ctx, run.ID, BulkOptions{ChunkSize: 97})
				} else {
					err = f.rescoreEach(ctx, run.ID)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			compareScores(t, "first scoring", allScores(t, bulk), allScores(t, each))
			// The bulk run packed the compact copy first and scored from the
			// packs (migration 00013).
			if c, err := bulk.db.CountPacks(ctx); err != nil || c.Tail != 0 || c.Packs == 0 || c.Packed != 12000 {
				t.Fatalf("after the first bulk rescore: %+v, %v; want every event packed", c, err)
			}
			// Unpack a fifth of the leads (an event change does) and add
			// events to others: the next runs read packs and tail, repack
			// and must still agree with the per-lead path.
			for _, f := range []*Flow{bulk, each} {
				q := "UPDATE events SET properties = properties WHERE lead_id % 5 = 0"
				if _, err := f.db.Write.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if c, err := bulk.db.CountPacks(ctx); err != nil || c.Tail == 0 {
				t.Fatalf("after unpacking: %+v, %v; want a tail", c, err)
			}

			runB, runE := applyModel(t, bulk, newModel), applyModel(t, each, newModel)
			st, err := bulk.RescoreBulk(ctx, runB.ID, BulkOptions{ChunkSize: 113, Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			if err := each.rescoreEach(ctx, runE.ID); err != nil {
				t.Fatal(err)
			}
			b, e := allScores(t, bulk), allScores(t, each)
			compareScores(t, "after a new model", b, e)
			if st.Changed == 0 || st.Transitions == 0 {
				t.Errorf("the new model changed %d scores and moved %d leads; want some of each", st.Changed, st.Transitions)
			}
			cb, ce := transitionCauses(t, bulk, b), transitionCauses(t, each, e)
			if len(cb) != len(ce) || cb["model v2 → mql"] == 0 {
				t.Errorf("transitions differ or none by the model:\nbulk %v\neach %v", cb, ce)
			}
			for k, n := range ce {
				if cb[k] != n {
					t.Errorf("transitions %q: bulk %d, per lead %d", k, cb[k], n)
				}
			}
			// The events table gives the same scores as the compact copy
			// the runs above read: rescoring from it changes nothing.
			again, err := bulk.NewRescoreRun(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st, err := bulk.RescoreBulk(ctx, again.ID, BulkOptions{ChunkSize: 101, EventsTable: true}); err != nil || st.Changed != 0 || st.Transitions != 0 || st.Events == 0 {
				t.Errorf("rescore from the events table: %+v, %v; want nothing changed", st, err)
			}
			done, err := bulk.db.RescoreRunByID(ctx, runB.ID)
			if err != nil {
				t.Fatal(err)
			}
			if done.Status != store.RescoreDone || done.Done != int64(len(b)) {
				t.Errorf("run: %+v", done)
			}
			// Explain (which matches events again for a lead whose hits
			// belong to an older version) agrees with the stored scores.
			for id, s := range b {
				if id%37 != 0 {
					continue
				}
				ex, _, err := bulk.Explain(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if ex.Score != s.Score {
					t.Errorf("lead %d: explain %v, stored %v", id, ex.Score, s.Score)
				}
			}
		})
	}
}

func compareScores(t *testing.T, what string, got, want map[int64]leadScore) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d leads, want %d", what, len(got), len(want))
	}
	bad := 0
	for id, w := range want {
		g := got[id]
		if g.Score != w.Score || g.Fit != w.Fit || g.Behavior != w.Behavior || !g.NextDecay.Equal(w.NextDecay) || g.Stage != w.Stage {
			if bad++; bad <= 5 {
				t.Errorf("%s: lead %d: bulk %+v, per lead %+v", what, id, g, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d leads differ", what, bad, len(want))
	}
}

// TestBulkRescoreResumes stops a run after two chunks (as a crash after
// their commits would) and works it again: it continues from the saved
// progress and ends with the scores of an uninterrupted run.
func TestBulkRescoreResumes(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := loadGenerated(t, backend, 500, 8000)
			ref := loadGenerated(t, backend, 500, 8000)
			for _, x := range []*Flow{f, ref} {
				run, err := x.NewRescoreRun(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := x.RescoreBulk(ctx, run.ID, BulkOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			run := applyModel(t, f, newModel)
			st, err := f.RescoreBulk(ctx, run.ID, BulkOptions{ChunkSize: 100, MaxChunks: 2})
			if err != nil {
				t.Fatal(err)
			}
			saved, err := f.db.RescoreRunByID(ctx, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Finished || saved.Status != store.RescoreRunning || saved.Done != 200 || saved.LastLeadID != 200 {
				t.Fatalf("after 2 chunks: stats %+v, run %+v", st, saved)
			}
			// A cancelled job (the process stopping) saves nothing more.
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := f.Rescore(cctx, run.ID); err == nil {
				t.Fatal("a cancelled rescore returned no error")
			}
			// The job runs again (River retries it) and resumes at lead 201.
			st, err = f.RescoreBulk(ctx, run.ID, BulkOptions{ChunkSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if st.Leads != 300 || !st.Finished {
				t.Errorf("resumed run scored %d leads (finished %v), want the remaining 300", st.Leads, st.Finished)
			}
			end, err := f.db.RescoreRunByID(ctx, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			if end.Status != store.RescoreDone || end.Done != 500 {
				t.Errorf("run at the end: %+v", end)
			}
			refRun := applyModel(t, ref, newModel)
			if err := ref.Rescore(ctx, refRun.ID); err != nil {
				t.Fatal(err)
			}
			compareScores(t, "resumed vs uninterrupted", allScores(t, f), allScores(t, ref))
		})
	}
}

// BenchmarkBulkRescore times a full rescore (read, score, write back) of a
// generated 20,000 leads / 400,000 events after a model change (most
// scores change) and again under the same model (nothing to write).
func BenchmarkBulkRescore(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			f := loadGenerated(b, backend, 20_000, 400_000)
			run, err := f.NewRescoreRun(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := f.RescoreBulk(ctx, run.ID, BulkOptions{}); err != nil {
				b.Fatal(err)
			}
			b.Run("unchanged", func(b *testing.B) {
				var events int64
				for b.Loop() {
					run, err := f.NewRescoreRun(ctx)
					if err != nil {
						b.Fatal(err)
					}
					st, err := f.RescoreBulk(ctx, run.ID, BulkOptions{})
					if err != nil {
						b.Fatal(err)
					}
					events = st.Events
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*events), "ns/event")
			})
			b.Run("new-model", func(b *testing.B) {
				models := []string{newModel, string(scoring.DefaultModel)}
				var events int64
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					run := applyModel(b, f, models[i%2])
					b.StartTimer()
					st, err := f.RescoreBulk(ctx, run.ID, BulkOptions{})
					if err != nil {
						b.Fatal(err)
					}
					events = st.Events
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*events), "ns/event")
			})
		})
	}
}
