package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// UpdateLeads writes a lead whose indexed keys are as the transaction read
// them without those columns, and the others with every column: both must
// store exactly the lead given, keys included, and keep the indexes right.
func TestUpdateLeadsKeptAndChangedKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var ids []int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, email := range []string{"a@keys.jp", "b@keys.jp", "c@keys.jp"} {
				l := &leadflow.Lead{Email: email, Name: "名前 " + email, Company: "株式会社" + email, Industry: "it",
					FirstTouch: leadflow.Attribution{Source: "google", Campaign: "spring"}, Owner: "sato"}
				if err := tx.CreateLead(ctx, l); err != nil {
					return err
				}
				ids = append(ids, l.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		decay := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		err = db.InTx(ctx, func(tx *store.Tx) error {
			ls, err := tx.LeadsByIDs(ctx, ids)
			if err != nil {
				return err
			}
			for _, l := range ls {
				l.Score, l.BehaviorScore, l.Title, l.NextDecayAt = 42, 42, "部長", decay // keys kept
				if l.Email == "b@keys.jp" {
					l.Email, l.Owner, l.Stage, l.Industry = "b2@keys.jp", "suzuki", leadflow.StageMQL, "finance"
				}
			}
			// Text-searched and indexed columns changed: written whole.
			c := *ls[2]
			c.Company, c.FirstTouch.Campaign = "新社名", "autumn"
			return tx.UpdateLeads(ctx, []*leadflow.Lead{ls[0], ls[1], &c})
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []struct {
			email, owner, industry, company, campaign string
			stage                                     leadflow.Stage
		}{
			{"a@keys.jp", "sato", "it", "株式会社a@keys.jp", "spring", leadflow.StageLead},
			{"b2@keys.jp", "suzuki", "finance", "株式会社b@keys.jp", "spring", leadflow.StageMQL},
			{"c@keys.jp", "sato", "it", "新社名", "autumn", leadflow.StageLead},
		} {
			l, err := db.FindLeadByEmail(ctx, want.email) // through leads_email
			if err != nil {
				t.Fatal(err)
			}
			if l.Score != 42 || l.Title != "部長" || l.Owner != want.owner || l.Stage != want.stage ||
				l.Industry != want.industry || l.Company != want.company || l.FirstTouch.Campaign != want.campaign {
				t.Errorf("%s: %+v", want.email, l)
			}
		}
		if _, err := db.FindLeadByEmail(ctx, "b@keys.jp"); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Errorf("old email still found: %v", err)
		}
		// Only unindexed columns changed: score and next decay stay.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			ls, err := tx.LeadsByIDs(ctx, ids[:1])
			if err != nil {
				return err
			}
			ls[0].Title, ls[0].BehaviorScore = "課長", 40
			return tx.UpdateLeads(ctx, ls)
		})
		if err != nil {
			t.Fatal(err)
		}
		if l, err := db.FindLead(ctx, ids[0]); err != nil || l.Title != "課長" || l.BehaviorScore != 40 || l.Score != 42 ||
			!l.NextDecayAt.Equal(decay) {
			t.Fatalf("kept keys: %+v %v", l, err)
		}
		// Taking another lead's email is a conflict, and nothing is written.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			ls, err := tx.LeadsByIDs(ctx, ids[:1])
			if err != nil {
				return err
			}
			ls[0].Email, ls[0].Score = "c@keys.jp", 7
			return tx.UpdateLeads(ctx, ls)
		})
		if leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("email of another lead: %v, want ECONFLICT", err)
		}
		if l, err := db.FindLeadByEmail(ctx, "a@keys.jp"); err != nil || l.Score != 42 {
			t.Fatalf("after the conflict: %+v %v", l, err)
		}
	})
}
