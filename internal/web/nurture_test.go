package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/notify/mailpittest"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestNurturePage: marketing saves a sequence from the editor, a sequence
// with an error is refused with the error at its line, the list and the
// sequence page show the state and report, marketing pauses and resumes
// it; viewers read but cannot write.
func TestNurturePage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		mkt, viewer := b.login(t, "marketing1"), b.login(t, "viewer1")

		if r := b.get(t, viewer, "/nurture"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "シーケンスはまだありません") ||
			strings.Contains(r.Body, `name="source"`) {
			t.Fatalf("viewer's empty list: %d", r.StatusCode)
		}
		if r := b.post(t, viewer, "/nurture", url.Values{"source": {sequenceExample}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("viewer saves a sequence: %d", r.StatusCode)
		}
		bad := strings.Replace(sequenceExample, "email: hello", "email: nosuch", 1)
		r := b.post(t, mkt, "/nurture", url.Values{"source": {bad}}, "Accept-Language", "en")
		if r.StatusCode != http.StatusUnprocessableEntity || !badLine(r.Body, "12") || !strings.Contains(r.Body, "nosuch") {
			t.Fatalf("invalid sequence: %d, want the problem at line 12\n%.5000s", r.StatusCode, r.Body)
		}
		if seqs, _ := db.Sequences(ctx); len(seqs) != 0 {
			t.Fatal("an invalid sequence was stored")
		}
		r = b.post(t, mkt, "/nurture", url.Values{"source": {sequenceExample}})
		loc := r.Header.Get("Location")
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/nurture/") {
			t.Fatalf("save: %d %s", r.StatusCode, r.Body)
		}
		seqs, err := db.Sequences(ctx)
		if err != nil || len(seqs) != 1 || seqs[0].Name != "example" || !seqs[0].Active || seqs[0].UpdatedBy != "user:marketing1" {
			t.Fatalf("stored %+v %v", seqs, err)
		}
		id := itoa(int(seqs[0].ID))
		if r := b.get(t, mkt, loc); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "シーケンス example を保存しました") ||
			!strings.Contains(r.Body, "ステップ別レポート") || !strings.Contains(r.Body, "テスト送信") {
			t.Fatalf("sequence page: %d %.3000s", r.StatusCode, r.Body)
		}
		r = b.get(t, viewer, "/nurture/"+id, "Accept-Language", "en")
		if r.StatusCode != http.StatusOK || strings.Contains(r.Body, `name="source"`) || strings.Contains(r.Body, "Test send") ||
			!strings.Contains(r.Body, "Report by step") {
			t.Fatalf("viewer's sequence page: %d", r.StatusCode)
		}
		if r := b.get(t, viewer, "/nurture"); !strings.Contains(r.Body, `href="/nurture/`+id+`"`) || !strings.Contains(r.Body, "稼働中") {
			t.Fatal("list lacks the sequence or its state")
		}
		if r := b.post(t, viewer, "/nurture/"+id+"/active", url.Values{"active": {"0"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("viewer pauses: %d", r.StatusCode)
		}
		if r := b.post(t, mkt, "/nurture/"+id+"/active", url.Values{"active": {"0"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("pause: %d", r.StatusCode)
		}
		if s, _ := db.Sequence(ctx, seqs[0].ID); s.Active {
			t.Fatal("not paused")
		}
		if r := b.get(t, viewer, "/nurture"); !strings.Contains(r.Body, "一時停止中") {
			t.Fatal("list does not show the pause")
		}
		if r := b.post(t, mkt, "/nurture/"+id+"/active", url.Values{"active": {"1"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("resume: %d", r.StatusCode)
		}
		if s, _ := db.Sequence(ctx, seqs[0].ID); !s.Active {
			t.Fatal("not resumed")
		}
		if r := b.post(t, mkt, "/nurture/"+id+"/test-send", url.Values{"template": {"hello"}, "to": {"not an address"}}); r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(r.Body, `class="flash error"`) {
			t.Fatalf("test send to a bad address: %d", r.StatusCode)
		}
		if r := b.post(t, viewer, "/nurture/"+id+"/test-send", url.Values{"template": {"hello"}, "to": {"a@example.com"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("viewer test-sends: %d", r.StatusCode)
		}
		if r := b.get(t, mkt, "/nurture/999999"); r.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown sequence: %d", r.StatusCode)
		}
	})
}

// TestNurtureTestSend sends an email step of a sequence from the page to a
// real SMTP server (mailpit) and reads it back.
func TestNurtureTestSend(t *testing.T) {
	mp := mailpittest.Start(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		to := fmt.Sprintf("test-send-%d@example.co.jp", time.Now().UnixNano())
		doc := fmt.Sprintf("smtp: {host: %s, port: %d, tls: none, from: \"leadflow <leadflow@example.com>\"}\n", mp.SMTPHost, mp.SMTPPort)
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, store.SettingNotifications, doc, "test") }); err != nil {
			t.Fatal(err)
		}
		mkt := b.login(t, "marketing1")
		r := b.post(t, mkt, "/nurture", url.Values{"source": {sequenceExample}})
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", r.StatusCode)
		}
		seqs, _ := db.Sequences(ctx)
		r = b.post(t, mkt, "/nurture/"+itoa(int(seqs[0].ID))+"/test-send", url.Values{"template": {"hello"}, "to": {to}})
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "sent=") {
			t.Fatalf("test send: %d %.3000s", r.StatusCode, r.Body)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			for _, m := range mp.Messages(t) {
				if len(m.To) == 1 && m.To[0].Address == to {
					if !strings.Contains(m.Subject, "様: ご案内") {
						t.Fatalf("subject %q", m.Subject)
					}
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no email to %s", to)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
