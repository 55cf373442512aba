package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// checkCompact requires the compact copy of every lead's events to be
// exactly its events: same ids, times, type, name and properties.path.
func checkCompact(t *testing.T, db *store.DB, leads ...int64) {
	t.Helper()
	ctx := context.Background()
	sigs := map[int64]store.EventSig{}
	all, err := db.EventSigs(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		sigs[s.ID] = s
	}
	for _, id := range leads {
		evs, err := db.EventsOfLead(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []store.CompactEvent
		if err := db.ScanCompact(ctx, id-1, id, func(e *store.CompactEvent) error {
			got = append(got, *e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(evs) {
			t.Fatalf("lead %d: %d compact events, %d events", id, len(got), len(evs))
		}
		for i, e := range evs { // both in (ts, id) order
			c := got[i]
			s, ok := sigs[c.Sig]
			if c.ID != e.ID || c.LeadID != id || !c.Time().Equal(e.Timestamp) || !ok ||
				s.Type != string(e.Type) || s.Name != e.Name {
				t.Fatalf("lead %d event %d: compact %+v sig %+v, event %+v", id, i, c, s, e)
			}
			want, has := e.Properties["path"]
			if !has {
				if s.Path != "" {
					t.Fatalf("event %d has no path, signature %q", e.ID, s.Path)
				}
				continue
			}
			var v any
			if err := json.Unmarshal([]byte(s.Path), &v); err != nil || !reflect.DeepEqual(v, want) {
				t.Fatalf("event %d path %#v, signature %q (%v)", e.ID, want, s.Path, err)
			}
		}
	}
}

func TestCompactEventsFollowEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		var a, b int64
		n := 0
		event := func(lead int64, anon string, typ leadflow.EventType, name string, props map[string]any) *leadflow.Event {
			n++
			return &leadflow.Event{MessageID: "m" + strconv.Itoa(n), LeadID: lead, AnonymousID: anon, Type: typ, Name: name,
				Properties: props, Timestamp: t0.Add(time.Duration(n%5) * time.Hour), ReceivedAt: t0}
		}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			src, _, err := tx.CreateSource(ctx, "web")
			if err != nil {
				return err
			}
			la, lb := &leadflow.Lead{Email: "a@b.co"}, &leadflow.Lead{Email: "c@d.co"}
			if err := tx.CreateLead(ctx, la); err != nil {
				return err
			}
			if err := tx.CreateLead(ctx, lb); err != nil {
				return err
			}
			a, b = la.ID, lb.ID
			evs := []*leadflow.Event{
				event(a, "", leadflow.EventPage, "", map[string]any{"path": "/pricing", "title": "Pricing"}),
				event(a, "", leadflow.EventPage, "", map[string]any{"path": "/pricing", "title": "Other"}),
				event(a, "", leadflow.EventPage, "", map[string]any{"path": float64(5)}),
				event(a, "", leadflow.EventPage, "", map[string]any{"path": map[string]any{"x": true}, "y": "path"}),
				event(a, "", leadflow.EventPage, "", map[string]any{"path": ""}),
				event(a, "", leadflow.EventTrack, "Demo Requested", nil),
				event(a, "", leadflow.EventTrack, "Demo Requested", map[string]any{"note": "\"path\" in a value"}),
				event(b, "", leadflow.EventPage, "", map[string]any{"path": "/docs/日本語"}),
				event(0, "anon-1", leadflow.EventPage, "", map[string]any{"path": "/pricing"}),
				event(0, "anon-1", leadflow.EventTrack, "Webinar Attended", nil),
			}
			for _, e := range evs {
				e.SourceID = src.ID
				if _, err := tx.InsertEvent(ctx, e); err != nil {
					return err
				}
			}
			dup := *evs[0] // a retry: not stored twice
			dup.ID = 0
			_, err = tx.InsertEvent(ctx, &dup)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		checkCompact(t, db, a, b)
		count := func() int {
			k := 0
			if err := db.ScanCompact(ctx, 0, b+1, func(*store.CompactEvent) error { k++; return nil }); err != nil {
				t.Fatal(err)
			}
			return k
		}
		if k := count(); k != 8 {
			t.Fatalf("%d compact events, want 8 (anonymous events have none)", k)
		}

		// Identify: the visitor's events join lead b.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AttachAnonymous(ctx, "anon-1", b)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		checkCompact(t, db, a, b)
		// Merge: b's events move to a.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.MergeLeads(ctx, a, b) }); err != nil {
			t.Fatal(err)
		}
		checkCompact(t, db, a, b)
		if k := count(); k != 10 {
			t.Fatalf("after merge %d compact events, want 10", k)
		}
		// Erase: nothing of a is left.
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.EraseLead(ctx, a, "test") }); err != nil {
			t.Fatal(err)
		}
		checkCompact(t, db, a)
		if k := count(); k != 0 {
			t.Fatalf("after erase %d compact events, want 0", k)
		}
	})
}

// TestLeadsInRangeMatchesFindLead checks the bulk lead read (driver values
// directly on SQLite) against FindLead, field by field.
func TestLeadsInRangeMatchesFindLead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		leads := []*leadflow.Lead{
			{Email: "a@b.co", Name: "山田 太郎", Company: "山田製作所", Title: "部長", Industry: "manufacturing", Employees: 120,
				Country: "JP", Region: "関東", Phone: "03-0000-0000", Consent: true, Traits: map[string]any{"plan": "pro", "n": 3.5},
				BANT: leadflow.BANT{Budget: true, Need: true, Timeline: &tl}, FirstTouch: leadflow.Attribution{Source: "google", Campaign: "spring"},
				Score: 42.5, FitScore: 30, BehaviorScore: 12.5, NextDecayAt: tl, Owner: "sato", Team: "east"},
			{Email: "c@d.co", Unsubscribed: true},
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, l := range leads {
				if err := tx.CreateLead(ctx, l); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err := db.LeadsInRange(ctx, 0, leads[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d leads, want 2", len(got))
		}
		for i, l := range leads {
			want, err := db.FindLead(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[i], want) {
				t.Errorf("lead %d:\nLeadsInRange %+v\nFindLead     %+v", l.ID, got[i], want)
			}
		}
		if got[0].Traits["plan"] != "pro" || !got[0].BANT.Budget || got[0].Employees != 120 || !got[0].Consent {
			t.Errorf("lead fields lost: %+v", got[0])
		}
	})
}

// TestLeadsInRangeRead checks the lean lead read: with every field of
// `lead` it is the full read; with a few it fills those and the columns
// every scorer uses, and leaves the rest zero; an unknown field reads all.
func TestLeadsInRangeRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tl := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		leads := []*leadflow.Lead{
			{Email: "a@b.co", Name: "山田 太郎", Company: "山田製作所", Title: "部長", Industry: "manufacturing", Employees: 120,
				Country: "JP", Region: "関東", Phone: "03-0000-0000", Consent: true, Traits: map[string]any{"plan": "pro"},
				BANT: leadflow.BANT{Budget: true, Need: true, Timeline: &tl}, FirstTouch: leadflow.Attribution{Source: "google"},
				Score: 42.5, FitScore: 30, BehaviorScore: 12.5, NextDecayAt: tl, Owner: "sato", Team: "east"},
			{Email: "c@d.co", Unsubscribed: true, BANT: leadflow.BANT{Budget: true, Need: true, Timeline: &tl}},
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, l := range leads {
				if err := tx.CreateLead(ctx, l); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		full, err := db.LeadsInRange(ctx, 0, leads[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		every := []string{"email", "name", "company", "title", "industry", "employees", "country", "region", "phone",
			"stage", "score", "owner", "team", "source", "unsubscribed", "consent", "traits", "bant"}
		for _, r := range []store.LeadRead{{Fields: every, Columns: []string{"stage_at", "scored_at", "model_version", "created_at"}},
			{All: true}, {Fields: []string{"industry", "no_such_field"}}, {Columns: []string{"no_such_column"}}} {
			got, err := db.LeadsInRangeRead(ctx, 0, leads[1].ID, r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, full) {
				t.Errorf("read %+v:\n%+v\nwant\n%+v", r, got[0], full[0])
			}
		}
		got, err := db.LeadsInRangeRead(ctx, 0, leads[1].ID, store.LeadRead{Fields: []string{"industry", "bant"}, Columns: []string{"created_at"}})
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			f := full[i]
			want := leadflow.Lead{ID: f.ID, Industry: f.Industry, BANT: f.BANT, Stage: f.Stage,
				Score: f.Score, FitScore: f.FitScore, BehaviorScore: f.BehaviorScore,
				NextDecayAt: f.NextDecayAt, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
			if !reflect.DeepEqual(*g, want) {
				t.Errorf("lean read of lead %d:\n%+v\nwant\n%+v", f.ID, *g, want)
			}
		}
		// Two leads with the same BANT do not share its timeline.
		if got[0].BANT.Timeline == got[1].BANT.Timeline {
			t.Error("the leads share one timeline pointer")
		}
	})
}
