package gen

import (
	"context"
	"fmt"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// LoadStats counts what Load wrote.
type LoadStats struct {
	Leads, Events, Transitions, Deals int64
}

// Load writes a generated history straight into the tables with
// store.Loader (no ingestion, no scoring: rescore afterwards). With
// outcomes, sales' side of the story is written too: the lead's History
// as transitions (cause HistoryCause) and its deal (external id
// "gen-<lead id>", JPY), BANT for leads that reached SQL, and the last
// step's stage as the lead's stage. tick, when not nil, is called every
// 1,000 leads with the number loaded so far.
func Load(ctx context.Context, db *store.DB, sourceID int64, cfg Config, outcomes bool, tick func(int)) (LoadStats, error) {
	var st LoadStats
	ld, err := db.NewLoader(ctx, sourceID)
	if err != nil {
		return st, err
	}
	hw := db.NewHistoryWriter()
	count := 0
	err = Generate(cfg, func(rec *Record) error {
		l := rec.Lead
		id := ld.LeadID(l.ID)
		if outcomes {
			o := rec.Outcome
			if o.SQLAt != nil {
				b := o.BANT
				if b.Timeline != nil {
					t := *b.Timeline
					b.Timeline = &t
				}
				l.BANT = b
			}
			steps, deal := rec.History()
			for i := range steps {
				s := &steps[i]
				l.Stage, l.StageAt = s.To, s.At
				t := leadflow.Transition{LeadID: id, From: s.From, To: s.To, At: s.At, Cause: HistoryCause, Reason: s.Reason}
				hw.AddTransition(&t)
			}
			if deal != nil {
				d := store.Deal{LeadID: id, ExternalID: fmt.Sprintf("gen-%d", id), Name: l.Company, Status: deal.Status,
					Amount: deal.Amount, Currency: "JPY", Reason: deal.Reason, At: deal.At}
				hw.AddDeal(&d)
			}
			if l.StageAt.After(l.UpdatedAt) {
				l.UpdatedAt = l.StageAt
			}
		}
		// A lead's row must exist before its transitions (foreign key): the
		// history is written right after each write of the leads.
		written := ld.Leads
		if err := ld.Add(ctx, &l, rec.Events); err != nil {
			return err
		}
		if ld.Leads != written {
			if err := hw.Flush(ctx); err != nil {
				return err
			}
		}
		count++
		if tick != nil && count%1000 == 0 {
			tick(count)
		}
		return nil
	})
	if err == nil {
		err = ld.Close(ctx)
	}
	if err == nil {
		err = hw.Flush(ctx)
	}
	st.Leads, st.Events, st.Transitions, st.Deals = ld.Leads, ld.Events, hw.Transitions, hw.Deals
	return st, err
}
