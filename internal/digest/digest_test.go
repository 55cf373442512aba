package digest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/digest"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/notify/mailpittest"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

var tokyo = time.FixedZone("JST", 9*3600)

func jst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDueWeek(t *testing.T) {
	for _, c := range []struct{ now, label, from string }{
		{"2026-01-12 09:00", "2026-W02", "2026-01-05"}, // Monday 09:00: last week is due
		{"2026-01-12 08:59", "2026-W01", "2025-12-29"}, // before 09:00: the week before
		{"2026-01-18 23:59", "2026-W02", "2026-01-05"}, // Sunday: still last week
		{"2026-01-04 12:00", "2025-W52", "2025-12-22"}, // the ISO year of the week, not of now
	} {
		w := digest.DueWeek(jst(c.now), tokyo, 9)
		if w.Label != c.label || w.From.Format("2006-01-02") != c.from || w.To.Sub(w.From) != 7*24*time.Hour {
			t.Errorf("%s: %+v, want %s from %s", c.now, w, c.label, c.from)
		}
	}
}

// week seeds two weeks in Tokyo: 2026-W01 (Dec 29 – Jan 4) one lead that
// became an MQL; 2026-W02 (Jan 5 – 11) three leads, two MQLs, one SQL, and
// a rejection.
func seed(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	type lead struct {
		created string
		stages  []string // to-stage@time
	}
	leads := []lead{
		{"2025-12-30 10:00", []string{"mql@2025-12-31 10:00"}},
		{"2026-01-06 10:00", []string{"mql@2026-01-06 12:00", "sql@2026-01-08 10:00"}},
		{"2026-01-07 10:00", []string{"mql@2026-01-07 11:00", "recycled@2026-01-09 10:00"}},
		{"2026-01-08 10:00", nil},
	}
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for i, x := range leads {
			l := leadflow.Lead{Email: fmt.Sprintf("l%d@example.jp", i), CreatedAt: jst(x.created)}
			prev := leadflow.StageLead
			for _, s := range x.stages {
				to, when, _ := strings.Cut(s, "@")
				l.Stage, l.StageAt = leadflow.Stage(to), jst(when)
			}
			if err := tx.CreateLead(ctx, &l); err != nil {
				return err
			}
			for _, s := range x.stages {
				to, when, _ := strings.Cut(s, "@")
				tr := leadflow.Transition{LeadID: l.ID, From: prev, To: leadflow.Stage(to), At: jst(when), Cause: "user:sato"}
				if to == "recycled" {
					tr.Reason = "no-budget: next year"
				}
				if err := tx.InsertTransition(ctx, &tr); err != nil {
					return err
				}
				prev = tr.To
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDigest sends the weekly digest through a real mailpit: the ja and en
// subscribers get last week's numbers in their language, the user who does
// not subscribe gets nothing, and a second run (and a later one in the
// same week) sends nothing again.
func TestDigest(t *testing.T) {
	mp := mailpittest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seed(t, db)
		doc := fmt.Sprintf("smtp: {host: 127.0.0.1, port: %d, from: \"leadflow <leadflow@example.com>\", tls: none}\n", mp.SMTPPort)
		if _, err := notify.ParseSettings([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		domain := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + ".example.jp"
		users := map[string]*store.User{}
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.PutSetting(ctx, store.SettingNotifications, doc, "test"); err != nil {
				return err
			}
			for _, n := range []string{"sato", "smith", "tanaka"} {
				u := &store.User{Name: n, DisplayName: n, Email: n + "@" + domain, Role: "manager"}
				if err := tx.CreateUser(ctx, u, "test"); err != nil {
					return err
				}
				users[n] = u
			}
			if err := tx.SetReviewSubscription(ctx, users["sato"].ID, true, "ja"); err != nil {
				return err
			}
			if err := tx.SetReviewSubscription(ctx, users["smith"].ID, true, "en"); err != nil {
				return err
			}
			// tanaka subscribed, then changed their mind.
			if err := tx.SetReviewSubscription(ctx, users["tanaka"].ID, true, "en"); err != nil {
				return err
			}
			return tx.SetReviewSubscription(ctx, users["tanaka"].ID, false, "")
		})
		if err != nil {
			t.Fatal(err)
		}
		if on, lang, err := db.ReviewSubscription(ctx, users["smith"].ID); err != nil || !on || lang != "en" {
			t.Fatalf("smith's subscription: %v %q %v", on, lang, err)
		}
		n := notify.New(db, nil, notify.Options{})
		now := jst("2026-01-12 09:05")
		svc := &digest.Service{DB: db, Mailer: n, BaseURL: "https://leadflow.example.com/", Location: tokyo,
			Now: func() time.Time { return now }}
		sent, err := svc.Run(ctx)
		if err != nil || sent != 2 {
			t.Fatalf("first run: sent %d, %v", sent, err)
		}
		mine := func() map[string]*mailpittest.Message {
			out := map[string]*mailpittest.Message{}
			for _, s := range mp.Messages(t) {
				for _, to := range s.To {
					if strings.HasSuffix(to.Address, "@"+domain) {
						if out[to.Address] != nil {
							t.Errorf("%s got two digests", to.Address)
						}
						out[to.Address] = mp.Message(t, s.ID)
					}
				}
			}
			return out
		}
		got := mine()
		if len(got) != 2 || got["tanaka@"+domain] != nil {
			t.Fatalf("digests went to %v", keys(got))
		}
		ja, en := got["sato@"+domain], got["smith@"+domain]
		if ja == nil || en == nil {
			t.Fatalf("digests went to %v", keys(got))
		}
		for _, want := range []string{"週次レビュー 2026-W02(2026-01-05〜2026-01-11)", "リード: 3 / 1 / +2", "MQL: 2 / 1 / +1",
			"SQL: 1 / 0 / +1", "no-budget: 1", "/review?from=2026-01-05"} {
			if !strings.Contains(ja.Subject+"\n"+ja.Text, want) {
				t.Errorf("ja digest lacks %q:\n%s\n%s", want, ja.Subject, ja.Text)
			}
		}
		for _, want := range []string{"Weekly review 2026-W02 (2026-01-05 – 2026-01-11)", "Leads: 3 / 1 / +2", "MQLs: 2 / 1 / +1",
			"SQLs: 1 / 0 / +1", "MQLs → SQLs: 50.0% / 0.0% / +50.0%"} {
			if !strings.Contains(en.Subject+"\n"+en.Text, want) {
				t.Errorf("en digest lacks %q:\n%s\n%s", want, en.Subject, en.Text)
			}
		}
		if !strings.Contains(en.HTML, "<td>Leads</td><td align=\"right\">3</td>") {
			t.Errorf("en HTML lacks the lead count:\n%s", en.HTML)
		}
		// Again, and later in the week: nothing more.
		for _, later := range []string{"2026-01-12 09:20", "2026-01-15 10:00"} {
			now = jst(later)
			if sent, err := svc.Run(ctx); err != nil || sent != 0 {
				t.Fatalf("run at %s: sent %d, %v", later, sent, err)
			}
		}
		if got := mine(); len(got) != 2 {
			t.Fatalf("after re-runs, digests went to %v", keys(got))
		}
	})
}

func keys(m map[string]*mailpittest.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
