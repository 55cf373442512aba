package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func bouncedEvents(t *testing.T, db *store.DB, leadID int64) []leadflow.Event {
	t.Helper()
	evs, err := db.EventsOfLead(context.Background(), leadID)
	if err != nil {
		t.Fatal(err)
	}
	var out []leadflow.Event
	for _, ev := range evs {
		if ev.Name == nurture.EventEmailBounced {
			out = append(out, ev)
		}
	}
	return out
}

// TestNurtureHardBounceByMessageID: a hard bounce reported after sending,
// by the email's Message-ID, suppresses the address, ends the enrolment
// with reason bounced, marks the send, records one Email Bounced event
// (reported twice: once) and keeps the lead out of sequences.
func TestNurtureHardBounceByMessageID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db, "1h")
		l, e := b.recycledLead(t, "hard@example.co.jp")
		var send *store.Send
		if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
			send, err = tx.ClaimSend(ctx, &store.Send{EnrolmentID: e.ID, Step: 1, SequenceID: b.seq.ID, LeadID: l.ID, Email: l.Email})
			if err == nil {
				_, err = tx.FinishSend(ctx, send.ID, store.SendSent, "nurture.7.1@example.co.jp")
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		report := []nurture.BounceReport{{MessageID: "<nurture.7.1@example.co.jp>", Type: "HARD", Reason: "550 5.1.1 user unknown"}}
		if err := nurture.CheckBounces(report, "", b.now); err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{nurture.BounceRecorded, nurture.BounceDuplicate} {
			res, err := b.flow.NurtureBounce(ctx, report[0])
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != want || res.LeadID != l.ID || res.SendID != send.ID || res.Email != l.Email {
				t.Fatalf("report %d: %+v, want %s", i, res, want)
			}
			if i == 0 && (!res.Suppressed || res.Exited != 1) {
				t.Fatalf("hard bounce: %+v", res)
			}
		}
		if got := b.enrolment(t, e.ID); got.Status != store.EnrolmentExited || got.ExitReason != nurture.ExitBounced {
			t.Fatalf("enrolment: %+v", got)
		}
		if s, _ := db.Send(ctx, send.ID); s.Bounce != store.BounceHard || s.BouncedAt == nil || s.Status != store.SendSent {
			t.Fatalf("send: %+v", s)
		}
		evs := bouncedEvents(t, db, l.ID)
		if len(evs) != 1 || evs[0].Properties["type"] != "hard" || evs[0].Properties["reason"] != "550 5.1.1 user unknown" {
			t.Fatalf("events: %+v", evs)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			r, err := tx.Suppression(ctx, "HARD@example.co.jp")
			if r != "bounced" {
				t.Fatalf("suppression %q", r)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got, why, err := b.flow.EnrolInSequence(ctx, b.seq.ID, l.ID, "ops"); err != nil || got != nil || why == "" {
			t.Fatalf("a bounced address was enrolled: %+v %q %v", got, why, err)
		}
		counts, err := db.SequenceCounts(ctx, b.seq.ID, 3)
		if err != nil || counts[1].Bounced != 1 || counts[1].HardBounced != 1 {
			t.Fatalf("report: %+v %v", counts, err)
		}
	})
}

// TestNurtureSoftBounces: soft bounces count; the third within the
// window (the default soft_limit 3 in 30 days) suppresses. A soft bounce
// outside the window does not count, and an address leadflow does not
// know is still suppressed.
func TestNurtureSoftBounces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		b := setupNurture(t, db, "1h")
		l, e := b.recycledLead(t, "soft@example.co.jp")
		t0 := b.now
		at := []time.Time{t0.Add(-45 * 24 * time.Hour), t0.Add(-10 * 24 * time.Hour), t0.Add(-time.Hour), t0}
		for i, when := range at {
			res, err := b.flow.NurtureBounce(ctx, nurture.BounceReport{Email: "Soft@Example.co.jp", Type: store.BounceSoft,
				Reason: "452 4.2.2 mailbox full", At: when})
			if err != nil {
				t.Fatal(err)
			}
			wantSuppressed := i == 3
			if res.Status != nurture.BounceRecorded || res.LeadID != l.ID || res.Suppressed != wantSuppressed {
				t.Fatalf("soft bounce %d: %+v", i, res)
			}
			if got := b.enrolment(t, e.ID); (got.Status == store.EnrolmentExited) != wantSuppressed {
				t.Fatalf("after soft bounce %d: %+v", i, got)
			}
		}
		if res, _ := b.flow.NurtureBounce(ctx, nurture.BounceReport{Email: "soft@example.co.jp", Type: store.BounceSoft, At: t0}); res.Status != nurture.BounceDuplicate {
			t.Fatalf("repeated soft bounce: %+v", res)
		}
		if n := len(bouncedEvents(t, db, l.ID)); n != 4 {
			t.Fatalf("%d Email Bounced events, want 4", n)
		}
		// soft_limit 0: soft bounces never suppress.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.PutSetting(ctx, store.SettingNurture, "bounces: {soft_limit: 0}\n", "ops")
		}); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			res, err := b.flow.NurtureBounce(ctx, nurture.BounceReport{Email: "stranger@example.com", Type: store.BounceSoft,
				At: t0.Add(time.Duration(-i) * time.Minute)})
			if err != nil || res.Suppressed || res.LeadID != 0 || res.Status != nurture.BounceRecorded {
				t.Fatalf("unknown address, soft %d: %+v %v", i, res, err)
			}
		}
		res, err := b.flow.NurtureBounce(ctx, nurture.BounceReport{Email: "stranger@example.com", Type: store.BounceHard, At: t0})
		if err != nil || !res.Suppressed {
			t.Fatalf("unknown address, hard: %+v %v", res, err)
		}
		// A message id leadflow never sent, and no address: unknown.
		if res, err := b.flow.NurtureBounce(ctx, nurture.BounceReport{MessageID: "other@elsewhere", Type: store.BounceHard, At: t0}); err != nil || res.Status != nurture.BounceUnknown {
			t.Fatalf("unknown message: %+v %v", res, err)
		}
	})
}

func TestCheckBounces(t *testing.T) {
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	bad := []nurture.BounceReport{
		{Email: "a@example.com", Type: "hard"},
		{Type: "soft"},
		{Email: "not an address", Type: "bounce"},
		{Email: "b@example.com", Type: "soft", At: now.Add(time.Hour)},
	}
	err := nurture.CheckBounces(bad, "bounces", now)
	var e *leadflow.Error
	if leadflow.ErrorCode(err) != leadflow.EINVALID || !asError(err, &e) {
		t.Fatalf("bad batch: %v", err)
	}
	wheres := map[string]bool{}
	for _, d := range e.Details {
		wheres[d.Where] = true
	}
	for _, w := range []string{"bounces[1].email", "bounces[2].email", "bounces[2].type", "bounces[3].at"} {
		if !wheres[w] {
			t.Errorf("no problem at %s: %+v", w, e.Details)
		}
	}
	if wheres["bounces[0].email"] || wheres["bounces[0].type"] {
		t.Errorf("a good bounce was refused: %+v", e.Details)
	}
	good := []nurture.BounceReport{{Email: "a@example.com", Type: " Soft "}}
	if err := nurture.CheckBounces(good, "", now); err != nil || good[0].Type != "soft" || !good[0].At.Equal(now) {
		t.Fatalf("good: %+v %v", good, err)
	}
	if err := nurture.CheckBounces(nil, "", now); leadflow.ErrorCode(err) != leadflow.EINVALID {
		t.Fatalf("empty: %v", err)
	}
}
