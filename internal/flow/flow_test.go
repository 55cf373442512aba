package flow_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

type bundle struct {
	db   *store.DB
	flow *flow.Flow
	key  string
	now  time.Time
}

func setup(t *testing.T, db *store.DB) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{db: db, now: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { return b.now }
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.flow = flow.New(db, q, nil)
	if err := b.flow.EnsureModel(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		_, b.key, err = tx.CreateSource(ctx, "test")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

var msgSeq atomic.Int64

func msg(typ leadflow.EventType, userID, name string, at time.Time, props map[string]any) segment.Message {
	m := segment.Message{Type: typ, UserID: userID, MessageID: fmt.Sprintf("m-%d", msgSeq.Add(1)),
		Timestamp: at, ReceivedAt: at, Properties: props}
	if typ == leadflow.EventTrack {
		m.Event = name
	} else {
		m.Name = name
	}
	return m
}

func identify(userID string, at time.Time, traits map[string]any) segment.Message {
	m := msg(leadflow.EventIdentify, userID, "", at, nil)
	m.Traits = traits
	return m
}

func (b *bundle) ingest(t *testing.T, msgs ...segment.Message) {
	t.Helper()
	if err := b.flow.Ingest(context.Background(), b.key, msgs); err != nil {
		t.Fatal(err)
	}
}

func (b *bundle) lead(t *testing.T, email string) *leadflow.Lead {
	t.Helper()
	l, err := b.db.FindLeadByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Scenarios from the articles, end to end through ingestion, on both databases.
func TestArticleScenarios(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		now := b.now

		// A lead reaching 50 points becomes an MQL: 部長 (20) + 150 staff (15)
		// + manufacturing (10) = 45 fit, + a whitepaper (15) = 60.
		b.ingest(t, identify("u1", now, map[string]any{"email": "buchou@maker.co.jp", "title": "製造部 部長",
			"employees": 150.0, "industry": "manufacturing"}))
		if l := b.lead(t, "buchou@maker.co.jp"); l.Score != 45 || l.Stage != leadflow.StageLead {
			t.Fatalf("fit only: score %v stage %s, want 45 lead", l.Score, l.Stage)
		}
		b.ingest(t, msg(leadflow.EventTrack, "u1", "Document Downloaded", now, nil))
		l := b.lead(t, "buchou@maker.co.jp")
		if l.Score != 60 || l.Stage != leadflow.StageMQL {
			t.Fatalf("after whitepaper: score %v stage %s, want 60 mql", l.Score, l.Stage)
		}
		ts, err := db.TransitionsOfLead(ctx, l.ID)
		if err != nil || len(ts) != 1 || ts[0].To != leadflow.StageMQL || !strings.Contains(ts[0].Cause, "mql") || len(ts[0].Explanation) == 0 {
			t.Fatalf("transition: %v %+v", err, ts)
		}

		// An inquiry makes an SQL at once.
		b.ingest(t, identify("u2", now, map[string]any{"email": "hand@raiser.jp"}),
			msg(leadflow.EventTrack, "u2", "Contact Sales", now, nil))
		if l := b.lead(t, "hand@raiser.jp"); l.Stage != leadflow.StageSQL {
			t.Fatalf("inquiry: stage %s, want sql", l.Stage)
		}

		// BANT complete with a timeline within 30 days makes an HQL.
		tl := now.Add(20 * 24 * time.Hour)
		hr := b.lead(t, "hand@raiser.jp")
		got, err := b.flow.UpdateLead(ctx, hr.ID, leadflow.LeadPatch{BANT: &leadflow.BANT{Budget: true, Authority: true, Need: true, Timeline: &tl}}, "api:test")
		if err != nil || got.Stage != leadflow.StageHQL {
			t.Fatalf("BANT: %v stage %s, want hql", err, got.Stage)
		}

		// Behavior three months old counts half (decay step 90d × 0.5).
		old := now.Add(-100 * 24 * time.Hour)
		b.ingest(t, identify("u3", old, map[string]any{"email": "old@visitor.jp"}),
			msg(leadflow.EventTrack, "u3", "Seminar Attended", old, nil))
		if l := b.lead(t, "old@visitor.jp"); l.BehaviorScore != 10 {
			t.Fatalf("old seminar: behavior %v, want 10 (20 × 0.5)", l.BehaviorScore)
		}

		// A cap stops repeated page views; negative points lower the score.
		var pages []segment.Message
		for i := 0; i < 6; i++ {
			pages = append(pages, msg(leadflow.EventPage, "u3", "Pricing", now, map[string]any{"path": "/pricing"}))
		}
		b.ingest(t, pages...)
		if l := b.lead(t, "old@visitor.jp"); l.BehaviorScore != 40 {
			t.Fatalf("capped pricing: behavior %v, want 10 + 30", l.BehaviorScore)
		}
		b.ingest(t, msg(leadflow.EventTrack, "u3", "Unsubscribed", now, nil))
		if l := b.lead(t, "old@visitor.jp"); l.BehaviorScore != 20 {
			t.Fatalf("unsubscribed: behavior %v, want 40 - 20", l.BehaviorScore)
		}
	})
}

func TestRetriedMessageCountsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		m := msg(leadflow.EventTrack, "u1", "Document Downloaded", b.now, nil)
		b.ingest(t, identify("u1", b.now, map[string]any{"email": "retry@x.jp"}), m)
		b.ingest(t, m)
		b.ingest(t, m)
		l := b.lead(t, "retry@x.jp")
		if l.BehaviorScore != 15 {
			t.Fatalf("behavior %v after retries, want 15", l.BehaviorScore)
		}
		events, _, err := db.Timeline(context.Background(), l.ID, "", 50)
		if err != nil || len(events) != 2 {
			t.Fatalf("events: %v %d, want 2", err, len(events))
		}
	})
}

func TestIdentityResolution(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		// Anonymous visits are kept, then join the lead on identify.
		p1 := msg(leadflow.EventPage, "", "Pricing", b.now, map[string]any{"path": "/pricing"})
		p1.AnonymousID = "anon-1"
		b.ingest(t, p1)
		if n, _ := db.CountLeads(ctx); n != 0 {
			t.Fatalf("anonymous visit created a lead")
		}
		id := identify("u9", b.now, map[string]any{"email": "Visitor@Example.jp", "name": "佐藤 花子"})
		id.AnonymousID = "anon-1"
		b.ingest(t, id)
		l := b.lead(t, "visitor@example.jp")
		if l.BehaviorScore != 10 || l.Name != "佐藤 花子" {
			t.Fatalf("anonymous page view not joined: %+v", l)
		}
		// The same person by user id and by email is one lead.
		b.ingest(t, msg(leadflow.EventTrack, "crm-77", "Webinar Attended", b.now, nil))
		b.ingest(t, identify("crm-77", b.now, map[string]any{"email": "visitor@example.jp"}))
		if n, _ := db.CountLeads(ctx); n != 1 {
			t.Fatalf("leads = %d, want 1 after merge", n)
		}
		l = b.lead(t, "visitor@example.jp")
		if l.BehaviorScore != 30 || len(l.ExternalIDs) != 2 {
			t.Fatalf("after merge: behavior %v ids %v", l.BehaviorScore, l.ExternalIDs)
		}
		// Alias links a previous anonymous id.
		p2 := msg(leadflow.EventTrack, "", "Document Downloaded", b.now, nil)
		p2.AnonymousID = "anon-2"
		b.ingest(t, p2)
		al := msg(leadflow.EventAlias, "u9", "", b.now, nil)
		al.PreviousID = "anon-2"
		b.ingest(t, al)
		if l := b.lead(t, "visitor@example.jp"); l.BehaviorScore != 45 {
			t.Fatalf("after alias: behavior %v, want 45", l.BehaviorScore)
		}
	})
}

func TestOneTransactionPerRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		bad := identify("u1", b.now, map[string]any{"email": "a@b.jp"})
		err := b.flow.Ingest(ctx, "lfw_wrong", []segment.Message{bad})
		if leadflow.ErrorCode(err) != leadflow.EUNAUTHORIZED {
			t.Fatalf("unknown key: %v", err)
		}
		// A change that fails (an email taken by another lead) writes nothing.
		b.ingest(t, identify("u1", b.now, map[string]any{"email": "a@b.jp", "company": "A"}),
			identify("u3", b.now, map[string]any{"email": "c@d.jp"}))
		other := b.lead(t, "c@d.jp")
		taken := "a@b.jp"
		company := "changed"
		if _, err := b.flow.UpdateLead(ctx, other.ID, leadflow.LeadPatch{Email: &taken, Company: &company}, "api:test"); leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			t.Fatalf("email conflict: %v", err)
		}
		if l := b.lead(t, "c@d.jp"); l.Company != "" {
			t.Fatalf("half-applied update: %+v", l)
		}
		// The stage change and its notification job commit together.
		b.ingest(t, identify("u2", b.now, map[string]any{"email": "sql@x.jp"}), msg(leadflow.EventTrack, "u2", "Demo Requested", b.now, nil))
		var n int
		if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = 'lead_transition'").Scan(&n); err != nil || n != 1 {
			t.Fatalf("transition jobs: %v %d, want 1", err, n)
		}
	})
}

func TestModelApplyAndRescore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		b.ingest(t, identify("u1", b.now, map[string]any{"email": "m@x.jp", "industry": "it"}),
			msg(leadflow.EventTrack, "u1", "Document Downloaded", b.now, nil))
		if l := b.lead(t, "m@x.jp"); l.Score != 25 || l.Stage != leadflow.StageLead {
			t.Fatalf("before: %v %s", l.Score, l.Stage)
		}
		// An invalid model is refused with a position and changes nothing.
		_, _, err := b.flow.ApplyModel(ctx, "bad.yaml", []byte("name: x\nfit:\n  - id: a\n    when: lead.nope > 1\n    points: 5\nstages:\n  mql: score >= 10\n"), "test")
		var le *leadflow.Error
		if leadflow.ErrorCode(err) != leadflow.EINVALID || !asError(err, &le) || len(le.Details) == 0 || !strings.Contains(le.Details[0].Where, "bad.yaml:4") {
			t.Fatalf("invalid model: %v", err)
		}
		if _, mv, _ := b.flow.ActiveModel(ctx); mv.Version != 1 {
			t.Fatalf("active model changed to v%d", mv.Version)
		}
		// A lower MQL threshold moves the lead on rescore, caused by "model v2".
		src := "name: lower\nbehavior:\n  - id: whitepaper\n    when: event.name == \"Document Downloaded\"\n    points: 15\nstages:\n  mql: score >= 10\n"
		mv, run, err := b.flow.ApplyModel(ctx, "lower.yaml", []byte(src), "test")
		if err != nil || mv.Version != 2 {
			t.Fatalf("apply: %v", err)
		}
		if err := b.flow.Rescore(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
		l := b.lead(t, "m@x.jp")
		if l.Score != 15 || l.Stage != leadflow.StageMQL || l.ModelVersion != 2 {
			t.Fatalf("after rescore: %v %s v%d", l.Score, l.Stage, l.ModelVersion)
		}
		ts, _ := db.TransitionsOfLead(ctx, l.ID)
		if len(ts) != 1 || ts[0].Cause != "model v2" {
			t.Fatalf("transitions: %+v", ts)
		}
		r, err := db.RescoreRunByID(ctx, run.ID)
		if err != nil || r.Status != store.RescoreDone || r.Done != 1 || r.Changed != 1 {
			t.Fatalf("run: %v %+v", err, r)
		}
	})
}

func TestDecaySweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		b.ingest(t, identify("u1", b.now, map[string]any{"email": "d@x.jp", "title": "部長", "employees": 500.0, "industry": "it"}),
			msg(leadflow.EventTrack, "u1", "Seminar Attended", b.now, nil))
		if l := b.lead(t, "d@x.jp"); l.Score != 65 || l.Stage != leadflow.StageMQL {
			t.Fatalf("before: %v %s", l.Score, l.Stage)
		}
		b.now = b.now.Add(91 * 24 * time.Hour)
		if err := b.flow.DecaySweep(ctx); err != nil {
			t.Fatal(err)
		}
		if l := b.lead(t, "d@x.jp"); l.Score != 55 {
			t.Fatalf("after 91 days: %v, want 45 + 10", l.Score)
		}
		// After 181 days the seminar no longer counts; the MQL stays an MQL
		// (automatic moves are forward only).
		b.now = b.now.Add(90 * 24 * time.Hour)
		if err := b.flow.DecaySweep(ctx); err != nil {
			t.Fatal(err)
		}
		if l := b.lead(t, "d@x.jp"); l.Score != 45 || l.Stage != leadflow.StageMQL {
			t.Fatalf("after 181 days: %v %s", l.Score, l.Stage)
		}
	})
}

func asError(err error, target **leadflow.Error) bool {
	e, ok := err.(*leadflow.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestExpiryRecyclesStaleMQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		b.ingest(t, identify("u1", b.now, map[string]any{"email": "stale@x.jp", "industry": "it"}),
			msg(leadflow.EventTrack, "u1", "Seminar Attended", b.now, nil),
			msg(leadflow.EventTrack, "u1", "Document Downloaded", b.now, nil),
			msg(leadflow.EventPage, "u1", "Pricing", b.now, map[string]any{"path": "/pricing"}))
		if l := b.lead(t, "stale@x.jp"); l.Stage != leadflow.StageMQL || l.Score != 55 {
			t.Fatalf("before: %v %s", l.Score, l.Stage)
		}
		// 20 days on, nothing has decayed and the MQL is not old enough.
		b.now = b.now.Add(20 * 24 * time.Hour)
		if err := b.flow.DecaySweep(ctx); err != nil {
			t.Fatal(err)
		}
		if l := b.lead(t, "stale@x.jp"); l.Stage != leadflow.StageMQL {
			t.Fatalf("expired too early: %s", l.Stage)
		}
		// 181 days after the events, behavior counts nothing: 10 < 40, in MQL for 30+ days.
		b.now = b.now.Add(161 * 24 * time.Hour)
		if err := b.flow.DecaySweep(ctx); err != nil {
			t.Fatal(err)
		}
		l := b.lead(t, "stale@x.jp")
		if l.Stage != leadflow.StageRecycled || l.Score != 10 {
			t.Fatalf("after expiry: %v %s", l.Score, l.Stage)
		}
		ts, _ := db.TransitionsOfLead(ctx, l.ID)
		last := ts[len(ts)-1]
		if !strings.HasPrefix(last.Cause, "expiry stale-mql") || last.Reason == "" {
			t.Fatalf("expiry transition: %+v", last)
		}
	})
}
