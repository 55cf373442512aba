package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/notify/mailpittest"
)

const e2eSequence = `name: recycled-e2e
from: "マーケティング部 <marketing@example.co.jp>"
enrol:
  stages: [recycled]
templates:
  first:
    subject: "{{.Lead.Name}} 様: 製造業の導入事例のご案内"
    text: |
      {{.Lead.Name}} 様

      導入事例はこちら: https://example.co.jp/case/1
    html: '<p>{{.Lead.Name}} 様</p><p><a href="https://example.co.jp/case/1">導入事例</a></p>'
  second:
    subject: "ご検討状況はいかがですか"
    text: "{{.Lead.Name}} 様"
steps:
  - id: first
    email: first
  - wait: 8s
  - id: second
    email: second
`

// TestNurtureEndToEnd: a recycled lead is enrolled, receives email 1
// through a real SMTP server (mailpit), clicks the tracked link, its score
// passes the MQL threshold, a hand-raiser makes it an SQL, it leaves the
// sequence and receives nothing more.
func TestNurtureEndToEnd(t *testing.T) {
	mp := mailpittest.Start(t)
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			s := startServer(t, backend)
			// mailpit is shared: each backend uses its own recipient.
			to := backend + "-taro@example.co.jp"
			doc := fmt.Sprintf("smtp: {host: %s, port: %d, tls: none, from: \"leadflow <leadflow@example.com>\"}\nbase_url: %s\n",
				mp.SMTPHost, mp.SMTPPort, s.URL)
			if code, b := s.do(t, "PUT", "/api/v1/settings/notifications", "application/yaml", strings.NewReader(doc)); code != 200 {
				t.Fatalf("smtp settings: %d %s", code, b)
			}

			// Bad sequences are refused at save with a message.
			for _, bad := range []struct{ from, to, want string }{
				{"{{.Lead.Name}} 様: 製造業", "{{.Lead.Nmae}} 様: 製造業", "can't evaluate field Nmae"},
				{"  - wait: 8s\n", "  - id: back\n    branch: {if: \"true\", then: first}\n", "would loop"},
			} {
				src := strings.Replace(e2eSequence, bad.from, bad.to, 1)
				code, b := s.do(t, "PUT", "/api/v1/nurture/sequences", "application/yaml", strings.NewReader(src))
				if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity || !strings.Contains(string(b), bad.want) {
					t.Fatalf("bad sequence: %d %s (want %q)", code, b, bad.want)
				}
			}
			code, b := s.do(t, "PUT", "/api/v1/nurture/sequences", "application/yaml", strings.NewReader(e2eSequence))
			if code != 200 {
				t.Fatalf("put sequence: %d %s", code, b)
			}
			var seq struct {
				ID int64 `json:"id"`
			}
			_ = json.Unmarshal(b, &seq)

			// Fit 45 (industry, size, title) + an earlier email click 3 = 48.
			batch := fmt.Sprintf(`{"batch":[
			 {"type":"identify","userId":"u-%[1]s","traits":{"email":%[2]q,"name":"山田 太郎","company":"山田製作所","industry":"manufacturing","employees":250,"title":"情報システム部 部長"}},
			 {"type":"track","userId":"u-%[1]s","event":"Email Link Clicked","messageId":"old-click-%[1]s"}]}`, backend, to)
			if code, b := s.batch(t, batch); code != 200 {
				t.Fatalf("batch: %d %s", code, b)
			}
			lead := getLead(t, s, to)
			if lead.Score != 48 || lead.Stage != "lead" {
				t.Fatalf("lead before: score %v stage %s", lead.Score, lead.Stage)
			}
			if code, b := s.do(t, "POST", fmt.Sprintf("/api/v1/leads/%d/stage", lead.ID), "application/json",
				strings.NewReader(`{"stage":"recycled","reason":"no-budget"}`)); code != 200 {
				t.Fatalf("recycle: %d %s", code, b)
			}

			// Email 1 arrives, with Japanese headers and one-click unsubscribe.
			msg := waitFor(t, mp, to, 1)
			if msg.Subject != "山田 太郎 様: 製造業の導入事例のご案内" {
				t.Fatalf("subject %q", msg.Subject)
			}
			h := mp.Headers(t, msg.ID)
			if got := first(h["List-Unsubscribe-Post"]); got != "List-Unsubscribe=One-Click" {
				t.Fatalf("List-Unsubscribe-Post %q", got)
			}
			unsub := strings.Trim(first(h["List-Unsubscribe"]), "<>")
			if !strings.HasPrefix(unsub, s.URL+"/u/") {
				t.Fatalf("List-Unsubscribe %q", unsub)
			}
			if raw := mp.Raw(t, msg.ID); !regexp.MustCompile(`(?i)\nSubject:\s+=\?utf-8\?[bq]\?`).MatchString(raw) {
				t.Fatalf("subject not RFC 2047 encoded:\n%s", raw[:min(len(raw), 800)])
			}
			full := mp.Message(t, msg.ID)
			click := regexp.MustCompile(regexp.QuoteMeta(s.URL) + `/t/c/[A-Za-z0-9_\-.]+`).FindString(full.Text)
			if click == "" || strings.Contains(full.Text, "https://example.co.jp/case/1") || !strings.Contains(full.HTML, "/t/o/") {
				t.Fatalf("links not tracked:\n%s\n%s", full.Text, full.HTML)
			}

			// Forged tracking URLs are rejected.
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for _, forged := range []string{click + "x", strings.Replace(click, "/t/c/", "/t/c/A", 1), s.URL + "/t/c/eyJrIjoiYyIsInMiOjEsInUiOiJodHRwczovL2V2aWwuZXhhbXBsZSJ9.AAAA"} {
				resp, err := noRedirect.Get(forged)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Fatalf("forged %s: %d", forged, resp.StatusCode)
				}
			}
			// The click redirects to the page and counts: 48 + 3 ≥ 50 → MQL.
			resp, err := noRedirect.Get(click)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.co.jp/case/1" {
				t.Fatalf("click: %d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
			lead = getLead(t, s, to)
			if lead.Score < 50 || lead.Stage != "mql" {
				t.Fatalf("after click: score %v stage %s", lead.Score, lead.Stage)
			}

			// A hand-raiser makes it an SQL; it leaves the sequence.
			if code, b := s.batch(t, fmt.Sprintf(`{"batch":[{"type":"track","userId":"u-%s","event":"Demo Requested"}]}`, backend)); code != 200 {
				t.Fatalf("demo: %d %s", code, b)
			}
			if lead = getLead(t, s, to); lead.Stage != "sql" {
				t.Fatalf("after demo request: stage %s", lead.Stage)
			}
			deadline := time.Now().Add(12 * time.Second)
			var ens struct {
				Items []struct {
					Status     string `json:"status"`
					ExitReason string `json:"exit_reason"`
				} `json:"items"`
			}
			for {
				_, b := s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/enrolments", lead.ID), "", nil)
				_ = json.Unmarshal(b, &ens)
				if len(ens.Items) == 1 && ens.Items[0].Status == "exited" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("enrolments: %s", b)
				}
				time.Sleep(200 * time.Millisecond)
			}
			if ens.Items[0].ExitReason != "converted" {
				t.Fatalf("exit reason %q", ens.Items[0].ExitReason)
			}
			// The wait (8 s) is over: nothing more was sent.
			time.Sleep(9 * time.Second)
			if n := count(t, mp, to); n != 1 {
				t.Fatalf("%d emails after exit, want 1", n)
			}

			// Report: JSON and CSV.
			code, b = s.do(t, "GET", fmt.Sprintf("/api/v1/nurture/sequences/%d/report", seq.ID), "", nil)
			var rep struct {
				Enrolled int `json:"enrolled"`
				Steps    []struct {
					Sent, Opened, Clicked, Converted, Exited int
				} `json:"steps"`
			}
			if err := json.Unmarshal(b, &rep); code != 200 || err != nil || rep.Enrolled != 1 || rep.Steps[0].Sent != 1 || rep.Steps[0].Clicked != 1 {
				t.Fatalf("report: %d %s", code, b)
			}
			conv := 0
			for _, st := range rep.Steps {
				conv += st.Converted
			}
			if conv != 1 {
				t.Fatalf("report converted %d: %s", conv, b)
			}
			if code, b := s.do(t, "GET", fmt.Sprintf("/api/v1/nurture/sequences/%d/report?format=csv", seq.ID), "", nil); code != 200 ||
				!strings.HasPrefix(string(b), "sequence,step,id,kind,reached,sent,opened,clicked") {
				t.Fatalf("csv: %d %s", code, b)
			}

			// One-click unsubscribe (RFC 8058): recorded as consent withdrawn and an event.
			resp, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("unsubscribe: %d", resp.StatusCode)
			}
			if l := getLead(t, s, to); !l.Unsubscribed || l.Score != lead.Score-20 {
				t.Fatalf("after unsubscribe: %+v (score before %v)", l, lead.Score)
			}
		})
	}
}

type e2eLead struct {
	ID           int64   `json:"id"`
	Score        float64 `json:"score"`
	Stage        string  `json:"stage"`
	Unsubscribed bool    `json:"unsubscribed"`
}

func getLead(t *testing.T, s *testServer, email string) e2eLead {
	t.Helper()
	code, b := s.do(t, "GET", "/api/v1/leads?email="+email, "", nil)
	var out struct {
		Items []e2eLead `json:"items"`
	}
	if err := json.Unmarshal(b, &out); code != 200 || err != nil || len(out.Items) != 1 {
		t.Fatalf("lead %s: %d %s", email, code, b)
	}
	return out.Items[0]
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func count(t *testing.T, mp *mailpittest.Server, to string) int {
	n := 0
	for _, m := range mp.Messages(t) {
		if len(m.To) > 0 && m.To[0].Address == to {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, mp *mailpittest.Server, to string, n int) mailpittest.Summary {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, m := range mp.Messages(t) {
			if len(m.To) > 0 && m.To[0].Address == to && count(t, mp, to) >= n {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to %s", to)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
