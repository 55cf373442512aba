package analytics_test

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/gen"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestBacktestFindsHiddenThreshold replays a generated history whose
// outcomes were drawn from a hidden threshold through a model that
// scores like the hidden rule: the max-F threshold must land near it.
func TestBacktestFindsHiddenThreshold(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 5,000 generated leads")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, hidden := range []float64{60, 45} {
			ctx := context.Background()
			cfg := gen.Config{Leads: 5000, Events: 100_000, End: genEnd, Seed: 7, HiddenThreshold: hidden}
			db := freshDB(t, db, hidden)
			loadGen(t, db, cfg)
			draft := mustModel(t, "draft.yaml", hiddenModel)
			active := scoring.MustCompile("default.yaml", scoring.DefaultModel)
			res, err := analytics.Backtest(ctx, db, analytics.BacktestModel{Name: "draft", Model: draft},
				&analytics.BacktestModel{Name: "default", Version: 1, Model: active},
				analytics.BacktestOptions{From: genEnd.AddDate(-1, 0, 0), To: genEnd, Outcome: analytics.OutcomeSQL,
					Capacity: 100, Workers: 2, ChunkSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if res.Leads != 5000 || res.SQLs == 0 || res.Won == 0 {
				t.Fatalf("cohort: %d leads, %d SQLs, %d won", res.Leads, res.SQLs, res.Won)
			}
			// The events table gives exactly what the compact copy gave.
			raw, err := analytics.Backtest(ctx, db, analytics.BacktestModel{Name: "draft", Model: draft},
				&analytics.BacktestModel{Name: "default", Version: 1, Model: active},
				analytics.BacktestOptions{From: genEnd.AddDate(-1, 0, 0), To: genEnd, Outcome: analytics.OutcomeSQL,
					Capacity: 100, Workers: 3, ChunkSize: 777, EventsTable: true})
			if err != nil {
				t.Fatal(err)
			}
			raw.ElapsedMS = res.ElapsedMS
			if !reflect.DeepEqual(raw, res) {
				t.Errorf("hidden %v: the backtest from the events table differs from the one from the compact copy", hidden)
			}
			f := res.Recommend.MaxF
			if f == nil {
				t.Fatal("no max-F recommendation")
			}
			t.Logf("hidden %v: max F1 (sql) at %v (F %.3f, precision %.3f, recall %.3f); capacity 100/month at %v; %d leads %d events %d SQL %d won in %d ms",
				hidden, f.Threshold, *f.F, *f.Precision, *f.Recall, res.Recommend.Capacity.Threshold, res.Leads, res.Events, res.SQLs, res.Won, res.ElapsedMS)
			if math.Abs(f.Threshold-hidden) > 10 {
				t.Errorf("hidden %v: max-F threshold %v is not within 10 points", hidden, f.Threshold)
			}
			// The same on won deals is noisier (few wins) but lands near too.
			res2, err := analytics.Backtest(ctx, db, analytics.BacktestModel{Name: "draft", Model: draft}, nil,
				analytics.BacktestOptions{From: genEnd.AddDate(-1, 0, 0), To: genEnd})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("hidden %v: max F1 (customer) at %v", hidden, res2.Recommend.MaxF.Threshold)
			if math.Abs(res2.Recommend.MaxF.Threshold-hidden) > 20 {
				t.Errorf("hidden %v: max-F (customer) threshold %v is not within 20 points", hidden, res2.Recommend.MaxF.Threshold)
			}
			if res.Changes == nil || res.Changes.DraftThreshold != 50 || res.Changes.ActiveThreshold != 50 {
				t.Errorf("changes: %+v", res.Changes)
			}
		}
	})
}

// freshDB returns db for the first threshold and a new database of the
// same backend for the next.
func freshDB(t *testing.T, db *store.DB, hidden float64) *store.DB {
	t.Helper()
	if hidden == 60 {
		return db
	}
	return storetest.Open(t, db.Dialect.Name)
}

var _ = time.Second
