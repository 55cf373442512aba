package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestLeads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var id int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			l := &leadflow.Lead{Email: " Taro@Example.co.jp ", Name: "山田 太郎", Company: "山田製作所", Employees: 120,
				Traits: map[string]any{"plan": "pro"}, FirstTouch: leadflow.Attribution{Source: "google", Campaign: "spring"}}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			id = l.ID
			_, err := tx.AddIdentity(ctx, store.IdentityUser, "u-1", l.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.FindLeadByEmail(ctx, "TARO@example.CO.JP")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != id || got.Name != "山田 太郎" || got.Employees != 120 || got.Traits["plan"] != "pro" ||
			got.Stage != leadflow.StageLead || len(got.ExternalIDs) != 1 || got.FirstTouch.Source != "google" {
			t.Fatalf("round trip: %+v", got)
		}
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateLead(ctx, &leadflow.Lead{Email: "taro@example.co.jp"})
		})
		if leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("duplicate email: got %v, want conflict", err)
		}
		if _, err := db.FindLead(ctx, 999999); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("missing lead: %v", err)
		}
	})
}

func TestEventsDedupAndErase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var leadID int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			src, _, err := tx.CreateSource(ctx, "web")
			if err != nil {
				return err
			}
			l := &leadflow.Lead{Email: "a@b.co"}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			leadID = l.ID
			for i := 0; i < 2; i++ {
				e := &leadflow.Event{SourceID: src.ID, MessageID: "m1", LeadID: l.ID, Type: leadflow.EventTrack,
					Name: "Document Downloaded", Timestamp: time.Now(), ReceivedAt: time.Now()}
				isNew, err := tx.InsertEvent(ctx, e)
				if err != nil {
					return err
				}
				if isNew != (i == 0) {
					t.Errorf("insert %d: new=%v", i, isNew)
				}
			}
			// A message with the id of one stored recently repeats it,
			// whatever its client time (recent_msgs_test.go: older ones
			// need the same client time).
			sent := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
			rows := []store.EventRow{}
			for i, at := range []time.Time{sent, sent, sent.Add(time.Second)} {
				rows = append(rows, store.EventRow{Event: &leadflow.Event{SourceID: src.ID, MessageID: "m3", AnonymousID: "anon-other",
					Type: leadflow.EventTrack, Name: fmt.Sprint("try ", i), Timestamp: at, ReceivedAt: at, ClientTime: at}})
			}
			if err := tx.InsertEvents(ctx, rows); err != nil {
				return err
			}
			if !rows[0].New || rows[1].New || rows[2].New {
				t.Errorf("client times t, t, t+1s: new %v %v %v, want true false false", rows[0].New, rows[1].New, rows[2].New)
			}
			rows[0].Event.ClientTime = sent.Add(time.Hour)
			if err := tx.InsertEvents(ctx, rows[:1]); err != nil || rows[0].New {
				t.Errorf("repeat in a later statement: new=%v err=%v", rows[0].New, err)
			}
			anon := &leadflow.Event{SourceID: src.ID, MessageID: "m2", AnonymousID: "anon-1", Type: leadflow.EventPage,
				Properties: map[string]any{"path": "/pricing"}, Timestamp: time.Now(), ReceivedAt: time.Now()}
			if _, err := tx.InsertEvent(ctx, anon); err != nil {
				return err
			}
			attached, err := tx.AttachAnonymous(ctx, "anon-1", l.ID)
			if err != nil {
				return err
			}
			if len(attached) != 1 || attached[0].Properties["path"] != "/pricing" {
				t.Errorf("attached: %+v", attached)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		events, next, err := db.Timeline(ctx, leadID, "", 1)
		if err != nil || len(events) != 1 || next == "" {
			t.Fatalf("timeline page 1: %v %d %q", err, len(events), next)
		}
		events2, next2, err := db.Timeline(ctx, leadID, next, 1)
		if err != nil || len(events2) != 1 || next2 != "" || events2[0].ID == events[0].ID {
			t.Fatalf("timeline page 2: %v %+v %q", err, events2, next2)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.EraseLead(ctx, leadID, "api:test") }); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindLead(ctx, leadID); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("erased lead still found: %v", err)
		}
		if n, _ := db.CountEvents(ctx); n != 1 { // m3 of another visitor
			t.Fatalf("events left after erase: %d, want 1", n)
		}
		audit, err := db.AuditOf(ctx, "lead", leadID)
		if err != nil || len(audit) != 1 || audit[0].Actor != "api:test" {
			t.Fatalf("audit: %v %+v", err, audit)
		}
	})
}

func TestFindLeadsPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for i := 0; i < 25; i++ {
				l := &leadflow.Lead{Email: "p" + string(rune('a'+i)) + "@x.jp", Company: "Acme", Score: float64(i % 5)}
				if i%2 == 0 {
					l.Stage = leadflow.StageMQL
				}
				if err := tx.CreateLead(ctx, l); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		cursor := ""
		prev := 1e9
		for page := 0; ; page++ {
			items, next, err := db.FindLeads(ctx, store.LeadFilter{Sort: "-score", Limit: 7, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range items {
				if seen[l.ID] {
					t.Fatalf("lead %d twice", l.ID)
				}
				if l.Score > prev {
					t.Fatalf("not sorted: %v after %v", l.Score, prev)
				}
				seen[l.ID], prev = true, l.Score
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 25 {
			t.Fatalf("saw %d leads, want 25", len(seen))
		}
		min := 3.0
		items, _, err := db.FindLeads(ctx, store.LeadFilter{Stage: []leadflow.Stage{leadflow.StageMQL}, ScoreMin: &min, Q: "ACME"})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range items {
			if l.Stage != leadflow.StageMQL || l.Score < 3 {
				t.Fatalf("filter leak: %+v", l)
			}
		}
		if len(items) == 0 {
			t.Fatal("filter found nothing")
		}
		if _, _, err := db.FindLeads(ctx, store.LeadFilter{Sort: "name"}); leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Fatalf("bad sort: %v", err)
		}
		if _, _, err := db.FindLeads(ctx, store.LeadFilter{Cursor: "%%%"}); leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}
