package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/notify/mailpittest"
)

// TestNurtureBouncesAPI: email 1 goes out through mailpit; a hard bounce
// reported afterwards by its Message-ID (as a mail provider's webhook
// would) suppresses the address, ends the enrolment with reason bounced,
// counts in the report (JSON and CSV), and is idempotent. Bad reports are
// problem+json saying where.
func TestNurtureBouncesAPI(t *testing.T) {
	mp := mailpittest.Start(t)
	s := startServer(t, "sqlite")
	to := "bounce-e2e@example.co.jp"
	doc := fmt.Sprintf("smtp: {host: %s, port: %d, tls: none, from: \"leadflow <leadflow@example.com>\"}\nbase_url: %s\n",
		mp.SMTPHost, mp.SMTPPort, s.URL)
	if code, b := s.do(t, "PUT", "/api/v1/settings/notifications", "application/yaml", strings.NewReader(doc)); code != 200 {
		t.Fatalf("smtp settings: %d %s", code, b)
	}
	if code, b := s.do(t, "PUT", "/api/v1/settings/nurture", "application/yaml", strings.NewReader("bounces: {soft_limit: -1}\n")); code != 400 ||
		!strings.Contains(string(b), "soft_limit") {
		t.Fatalf("negative soft_limit: %d %s", code, b)
	}
	// The shared sequence waits 8 s before email 2; on a slow machine the
	// enrolment could end before the bounce arrives. Wait an hour here.
	seqDoc := strings.Replace(e2eSequence, "wait: 8s", "wait: 1h", 1)
	code, b := s.do(t, "PUT", "/api/v1/nurture/sequences", "application/yaml", strings.NewReader(seqDoc))
	if code != 200 {
		t.Fatalf("put sequence: %d %s", code, b)
	}
	var seq struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(b, &seq)
	if code, b := s.batch(t, `{"batch":[{"type":"identify","userId":"u-bounce","traits":{"email":"`+to+`","name":"山田 一郎"}}]}`); code != 200 {
		t.Fatalf("batch: %d %s", code, b)
	}
	lead := getLead(t, s, to)
	if code, b := s.do(t, "POST", fmt.Sprintf("/api/v1/leads/%d/stage", lead.ID), "application/json",
		strings.NewReader(`{"stage":"recycled","reason":"no-budget"}`)); code != 200 {
		t.Fatalf("recycle: %d %s", code, b)
	}
	msg := waitFor(t, mp, to, 1)
	messageID := first(mp.Headers(t, msg.ID)["Message-Id"])
	sent := waitSend(t, s, lead.ID, func(sd sendView) bool { return sd.Status == "sent" })
	if messageID == "" || strings.Trim(messageID, "<>") != sent.MessageID {
		t.Fatalf("Message-ID %q, send %+v", messageID, sent)
	}

	// Bad reports: problem+json naming each problem.
	for _, bad := range []struct{ body, want string }{
		{`{}`, "no bounce given"},
		{`{"email":"` + to + `","type":"bounce"}`, "type must be hard or soft"},
		{`{"bounces":[{"type":"hard"},{"email":"x@example.com","type":"soft"}]}`, "bounces[0].email"},
		{`{"email":"` + to + `","type":"hard","bounces":[{"email":"x@example.com","type":"soft"}]}`, "not both"},
		{`{"email":"` + to + `","type":"hard","at":"2999-01-01T00:00:00Z"}`, "in the future"},
		{`{"email":"not-an-address","type":"hard"}`, "is not an email address"},
	} {
		code, b := s.do(t, "POST", "/api/v1/nurture/bounces", "application/json", strings.NewReader(bad.body))
		if code != 400 && code != 422 || !strings.Contains(string(b), bad.want) {
			t.Fatalf("%s: %d %s (want %q)", bad.body, code, b, bad.want)
		}
	}

	body := `{"bounces":[{"message_id":"` + messageID + `","type":"hard","reason":"550 5.1.1 user unknown"},` +
		`{"email":"nobody@elsewhere.example","type":"soft","at":"2026-01-05T10:00:00+09:00"}]}`
	for i, want := range []string{"recorded", "duplicate"} {
		code, b := s.do(t, "POST", "/api/v1/nurture/bounces", "application/json", strings.NewReader(body))
		var out struct {
			Items []struct {
				Email      string `json:"email"`
				LeadID     int64  `json:"lead_id"`
				Status     string `json:"status"`
				Suppressed bool   `json:"suppressed"`
				Exited     int    `json:"exited"`
			} `json:"items"`
		}
		if code != 200 || json.Unmarshal(b, &out) != nil || len(out.Items) != 2 {
			t.Fatalf("bounces %d: %d %s", i, code, b)
		}
		hard := out.Items[0]
		if hard.Status != want || hard.LeadID != lead.ID || hard.Email != to || (i == 0 && (!hard.Suppressed || hard.Exited != 1)) {
			t.Fatalf("bounces %d: %s", i, b)
		}
		if out.Items[1].Status != want || out.Items[1].LeadID != 0 || out.Items[1].Suppressed {
			t.Fatalf("unknown address %d: %s", i, b)
		}
	}
	code, b = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/enrolments", lead.ID), "", nil)
	if code != 200 || !strings.Contains(string(b), `"exit_reason":"bounced"`) {
		t.Fatalf("enrolments: %d %s", code, b)
	}
	code, b = s.do(t, "GET", fmt.Sprintf("/api/v1/nurture/sequences/%d/report", seq.ID), "", nil)
	var rep struct {
		Steps []struct {
			Bounced     int `json:"bounced"`
			HardBounced int `json:"hard_bounced"`
		} `json:"steps"`
	}
	if code != 200 || json.Unmarshal(b, &rep) != nil || len(rep.Steps) == 0 || rep.Steps[0].Bounced != 1 || rep.Steps[0].HardBounced != 1 {
		t.Fatalf("report: %d %s", code, b)
	}
	code, b = s.do(t, "GET", fmt.Sprintf("/api/v1/nurture/sequences/%d/report?format=csv", seq.ID), "", nil)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if code != 200 || len(lines) < 2 || !strings.HasSuffix(lines[0], ",bounced,hard_bounced") || !strings.HasSuffix(lines[1], ",1,1") {
		t.Fatalf("csv report: %d %s", code, b)
	}
}
