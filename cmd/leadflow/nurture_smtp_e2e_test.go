package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/notify/mailpittest"
)

// TestNurtureSMTPDownThenUp: while the SMTP server is unreachable the first
// email step is not marked sent and nothing is lost; once the server is
// back the retried step delivers the email exactly once.
func TestNurtureSMTPDownThenUp(t *testing.T) {
	mp := mailpittest.Start(t)
	s := startServer(t, "sqlite")
	to := "down-then-up@example.co.jp"
	// An SMTP port where nothing listens.
	down := strings.Split(freeAddr(t), ":")
	doc := func(host, port string) string {
		return fmt.Sprintf("smtp: {host: %s, port: %s, tls: none, from: \"leadflow <leadflow@example.com>\"}\nbase_url: %s\n", host, port, s.URL)
	}
	if code, b := s.do(t, "PUT", "/api/v1/settings/notifications", "application/yaml", strings.NewReader(doc(down[0], down[1]))); code != 200 {
		t.Fatalf("smtp settings: %d %s", code, b)
	}
	if code, b := s.do(t, "PUT", "/api/v1/settings/nurture", "application/yaml", strings.NewReader("rate: {per_minute: 600, per_sender_per_minute: 600}\n")); code != 200 {
		t.Fatalf("nurture settings: %d %s", code, b)
	}
	if code, b := s.do(t, "PUT", "/api/v1/settings/nurture", "application/yaml", strings.NewReader("rate: {per_minute: -1}\n")); code != 400 {
		t.Fatalf("negative rate: %d %s", code, b)
	}
	if code, b := s.do(t, "PUT", "/api/v1/nurture/sequences", "application/yaml", strings.NewReader(e2eSequence)); code != 200 {
		t.Fatalf("put sequence: %d %s", code, b)
	}
	if code, b := s.batch(t, `{"batch":[{"type":"identify","userId":"u-down","traits":{"email":"`+to+`","name":"山田 花子"}}]}`); code != 200 {
		t.Fatalf("batch: %d %s", code, b)
	}
	lead := getLead(t, s, to)
	if code, b := s.do(t, "POST", fmt.Sprintf("/api/v1/leads/%d/stage", lead.ID), "application/json",
		strings.NewReader(`{"stage":"recycled","reason":"no-budget"}`)); code != 200 {
		t.Fatalf("recycle: %d %s", code, b)
	}
	// The step runs and fails against the dead server: the send records
	// the failed attempt and stays pending, and nothing arrives.
	failed := waitSend(t, s, lead.ID, func(sd sendView) bool { return sd.Attempts >= 1 })
	if failed.Status != "pending" || failed.LastError == "" || failed.SentAt != nil {
		t.Fatalf("send while SMTP is down: %+v", failed)
	}
	if n := count(t, mp, to); n != 0 {
		t.Fatalf("%d emails while SMTP is down", n)
	}
	// The server comes back: the retried step sends email 1, once.
	if code, b := s.do(t, "PUT", "/api/v1/settings/notifications", "application/yaml",
		strings.NewReader(doc(mp.SMTPHost, fmt.Sprint(mp.SMTPPort)))); code != 200 {
		t.Fatalf("smtp settings: %d %s", code, b)
	}
	msg := waitFor(t, mp, to, 1)
	if msg.Subject != "山田 花子 様: 製造業の導入事例のご案内" {
		t.Fatalf("subject %q", msg.Subject)
	}
	time.Sleep(2 * time.Second)
	firsts := 0
	for _, m := range mp.Messages(t) {
		if len(m.To) > 0 && m.To[0].Address == to && strings.Contains(m.Subject, "導入事例") {
			firsts++
		}
	}
	if firsts != 1 {
		t.Fatalf("email 1 arrived %d times, want exactly once", firsts)
	}
	sent := waitSend(t, s, lead.ID, func(sd sendView) bool { return sd.Status == "sent" })
	if sent.ID != failed.ID || sent.Attempts < failed.Attempts || sent.SentAt == nil || sent.LastError != "" {
		t.Fatalf("send after SMTP came back: %+v (failed: %+v)", sent, failed)
	}
}

// sendView is a send as GET /api/v1/nurture/enrolments/{id}/sends shows it.
type sendView struct {
	ID        int64      `json:"id"`
	Step      int        `json:"step"`
	Status    string     `json:"status"`
	MessageID string     `json:"message_id"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	SentAt    *time.Time `json:"sent_at"`
	Bounce    string     `json:"bounce"`
}

// waitSend polls the first email of the lead's first enrolment until ok
// holds (30 s at most).
func waitSend(t *testing.T, s *testServer, leadID int64, ok func(sendView) bool) sendView {
	t.Helper()
	var last []byte
	for range 300 {
		code, b := s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/enrolments", leadID), "", nil)
		var es struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		if code == 200 && json.Unmarshal(b, &es) == nil && len(es.Items) > 0 {
			code, b = s.do(t, "GET", fmt.Sprintf("/api/v1/nurture/enrolments/%d/sends", es.Items[0].ID), "", nil)
			var sends struct {
				Items []sendView `json:"items"`
			}
			if code == 200 && json.Unmarshal(b, &sends) == nil && len(sends.Items) > 0 && ok(sends.Items[0]) {
				return sends.Items[0]
			}
			last = b
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("send of lead %d never reached the expected state; last: %s", leadID, last)
	return sendView{}
}
