package gen

import (
	"context"
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// finalStage is the stage a lead's outcome says it ends in.
func finalStage(o *Outcome) leadflow.Stage {
	switch {
	case o.WonAt != nil:
		return leadflow.StageCustomer
	case o.LostAt != nil:
		return leadflow.StageRecycled
	case o.OpportunityAt != nil:
		return leadflow.StageOpportunity
	case o.SQLAt != nil:
		return leadflow.StageSQL
	case o.MQLAt != nil:
		return leadflow.StageMQL
	}
	return leadflow.StageLead
}

// TestHistory checks every generated history: a chain of stage changes in
// time order that ends in the outcome's stage, SAL strictly between MQL
// and SQL, a deal for every opportunity with the outcome's status, and the
// same histories from the same seed.
func TestHistory(t *testing.T) {
	t.Parallel()
	run := func(seed int64) (string, map[leadflow.Stage]int) {
		h := fnv.New64a()
		ends := map[leadflow.Stage]int{}
		err := Generate(Config{Leads: 3000, Events: 60000, End: testEnd, Seed: seed}, func(rec *Record) error {
			steps, deal := rec.History()
			o := &rec.Outcome
			prev, at := leadflow.StageLead, rec.Lead.CreatedAt
			var mql, sal, sql *Step
			for i := range steps {
				s := &steps[i]
				fmt.Fprintf(h, "%d %s %s %d;", rec.Lead.ID, s.To, s.Reason, s.At.Unix())
				if s.From != prev {
					return fmt.Errorf("lead %d step %d: from %s, want %s", rec.Lead.ID, i, s.From, prev)
				}
				if s.At.Before(at) {
					return fmt.Errorf("lead %d step %d (%s) at %s, before %s", rec.Lead.ID, i, s.To, s.At, at)
				}
				switch s.To {
				case leadflow.StageMQL:
					mql = s
				case leadflow.StageSAL:
					sal = s
				case leadflow.StageSQL:
					sql = s
				}
				prev, at = s.To, s.At
			}
			if want := finalStage(o); prev != want {
				return fmt.Errorf("lead %d ends in %s, outcome says %s", rec.Lead.ID, prev, want)
			}
			ends[prev]++
			if sal != nil && (mql == nil || sql == nil || !sal.At.After(mql.At) || !sal.At.Before(sql.At)) {
				return fmt.Errorf("lead %d: SAL at %s not between MQL and SQL", rec.Lead.ID, sal.At)
			}
			if (o.OpportunityAt != nil) != (deal != nil) {
				return fmt.Errorf("lead %d: deal %v for opportunity %v", rec.Lead.ID, deal, o.OpportunityAt)
			}
			if deal != nil {
				want := map[leadflow.Stage]string{leadflow.StageCustomer: "won", leadflow.StageRecycled: "lost",
					leadflow.StageOpportunity: "open"}[prev]
				if deal.Status != want || (want == "won") != (deal.Amount > 0) {
					return fmt.Errorf("lead %d: deal %+v, want %s", rec.Lead.ID, deal, want)
				}
				fmt.Fprintf(h, "deal %s %.0f %d;", deal.Status, deal.Amount, deal.At.Unix())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%x", h.Sum64()), ends
	}
	a, ends := run(7)
	if b, _ := run(7); a != b {
		t.Fatalf("same seed, different histories: %s != %s", a, b)
	}
	if c, _ := run(8); c == a {
		t.Fatal("another seed gave the same histories")
	}
	for _, s := range []leadflow.Stage{leadflow.StageLead, leadflow.StageMQL, leadflow.StageSQL, leadflow.StageOpportunity,
		leadflow.StageCustomer, leadflow.StageRecycled} {
		if ends[s] == 0 {
			t.Errorf("no lead ends in %s: %v", s, ends)
		}
	}
}

// TestLoadHistory loads a generated history and reads back, per lead, the
// stage, its transitions and its deal.
func TestLoadHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var src *store.Source
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			var err error
			src, _, err = tx.CreateSource(ctx, "gen")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		cfg := Config{Leads: 800, Events: 16000, End: testEnd, Seed: 3}
		st, err := Load(ctx, db, src.ID, cfg, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		var wantTr, wantDeals int64
		checked := 0
		err = Generate(cfg, func(rec *Record) error {
			steps, deal := rec.History()
			wantTr += int64(len(steps))
			if deal != nil {
				wantDeals++
			}
			if rec.Lead.ID%7 != 0 && deal == nil {
				return nil // read back every 7th lead and every deal
			}
			checked++
			l, err := db.FindLead(ctx, rec.Lead.ID)
			if err != nil {
				return err
			}
			if want := finalStage(&rec.Outcome); l.Stage != want {
				return fmt.Errorf("lead %d: stage %s, want %s", l.ID, l.Stage, want)
			}
			trs, err := db.TransitionsOfLead(ctx, l.ID)
			if err != nil {
				return err
			}
			if len(trs) != len(steps) {
				return fmt.Errorf("lead %d: %d transitions, want %d", l.ID, len(trs), len(steps))
			}
			for i, tr := range trs {
				if tr.To != steps[i].To || !tr.At.Equal(steps[i].At) || tr.Cause != HistoryCause {
					return fmt.Errorf("lead %d transition %d: %+v, want %+v", l.ID, i, tr, steps[i])
				}
			}
			deals, err := db.DealsOfLead(ctx, l.ID)
			if err != nil {
				return err
			}
			if (deal == nil) != (len(deals) == 0) || (deal != nil && (deals[0].Status != deal.Status || deals[0].Amount != deal.Amount)) {
				return fmt.Errorf("lead %d: deals %+v, want %+v", l.ID, deals, deal)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Leads != 800 || st.Transitions != wantTr || st.Deals != wantDeals || wantDeals == 0 || checked < 100 {
			t.Fatalf("loaded %+v, want %d transitions and %d deals (checked %d leads)", st, wantTr, wantDeals, checked)
		}
	})
}
