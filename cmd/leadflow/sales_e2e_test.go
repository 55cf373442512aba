package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSalesActionsAndDeals(t *testing.T) {
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, backend)
			create := func(email, title string) leadJSON {
				t.Helper()
				status, body := s.do(t, "POST", "/api/v1/leads", "application/json",
					strings.NewReader(fmt.Sprintf(`{"email":%q,"title":%q,"industry":"it","employees":500}`, email, title)))
				if status != 201 {
					t.Fatalf("create: %d %s", status, body)
				}
				return decode[leadJSON](t, body)
			}
			post := func(path, body string) (int, []byte) {
				t.Helper()
				return s.do(t, "POST", path, "application/json", strings.NewReader(body))
			}
			// 部長 (20) + IT (10) + 500 staff (15) = 45: a lead; a seminar makes it an MQL.
			a := create("mql@x.jp", "部長")
			if a.Stage != "lead" || a.Score != 45 {
				t.Fatalf("created: %+v", a)
			}
			if status, body := post(fmt.Sprintf("/api/v1/leads/%d/accept", a.ID), `{}`); status != 409 {
				t.Fatalf("accepting a non-MQL: %d %s", status, body)
			}
			if status, body := post(fmt.Sprintf("/api/v1/leads/%d/stage", a.ID), `{"stage":"mql","reason":"seminar follow-up"}`); status != 200 {
				t.Fatalf("to mql: %d %s", status, body)
			}
			status, body := post(fmt.Sprintf("/api/v1/leads/%d/accept", a.ID), `{"user":"sato","note":"予算確認へ"}`)
			if status != 200 || decode[leadJSON](t, body).Stage != "sal" {
				t.Fatalf("accept: %d %s", status, body)
			}
			// Reject needs a configured reason.
			status, body = post(fmt.Sprintf("/api/v1/leads/%d/reject", a.ID), `{"reason":"bored"}`)
			if status != 400 || !strings.Contains(string(body), "no-budget") {
				t.Fatalf("unknown reason: %d %s", status, body)
			}
			status, body = post(fmt.Sprintf("/api/v1/leads/%d/reject", a.ID), `{"user":"sato","reason":"no-budget","note":"来期予算"}`)
			if status != 200 || decode[leadJSON](t, body).Stage != "recycled" {
				t.Fatalf("reject: %d %s", status, body)
			}
			// Touches.
			status, body = post(fmt.Sprintf("/api/v1/leads/%d/touches", a.ID), `{"user":"sato","kind":"call","outcome":"connected","note":"来期に再提案"}`)
			if status != 201 || !strings.Contains(string(body), `"kind":"call"`) {
				t.Fatalf("touch: %d %s", status, body)
			}
			if status, body := post(fmt.Sprintf("/api/v1/leads/%d/touches", a.ID), `{"kind":"fax"}`); status != 422 && status != 400 {
				t.Fatalf("bad touch kind: %d %s", status, body)
			}
			// The handoff context says why, with the rejection and the touch.
			status, body = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/handoff", a.ID), "", nil)
			h := string(body)
			for _, want := range []string{`"stage":"recycled"`, `"reason":"no-budget: 来期予算"`, `"kind":"call"`, `"score":`, `"stage_history"`, `"top_content"`} {
				if !strings.Contains(h, want) {
					t.Errorf("handoff lacks %s: %s", want, h)
				}
			}
			if status != 200 {
				t.Fatalf("handoff: %d", status)
			}
			// A reassignment shows in the handoff context as a previous owner.
			for _, u := range []string{"ito", "kato"} {
				if status, body := post("/api/v1/users", `{"name":"`+u+`","role":"sales"}`); status != 201 {
					t.Fatalf("user %s: %d %s", u, status, body)
				}
			}
			for _, u := range []string{"ito", "kato"} {
				if status, body := post(fmt.Sprintf("/api/v1/leads/%d/assign", a.ID), `{"owner":"`+u+`"}`); status != 200 {
					t.Fatalf("assign %s: %d %s", u, status, body)
				}
			}
			status, body = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/handoff", a.ID), "", nil)
			if !strings.Contains(string(body), `"previous_owners":[{"owner":"ito"`) || !strings.Contains(string(body), `"owner":"kato"`) {
				t.Fatalf("previous owners: %s", body)
			}
			// CRM round trip: an open deal makes an opportunity, won a customer.
			b := create("deal@x.jp", "担当")
			status, body = post("/api/v1/deals", `{"email":"deal@x.jp","external_id":"SF-001","status":"open","amount":1200000}`)
			if status != 200 || !strings.Contains(string(body), `"stage":"opportunity"`) {
				t.Fatalf("open deal: %d %s", status, body)
			}
			status, body = s.do(t, "POST", "/api/v1/imports/deals", "text/csv", strings.NewReader("external_id,email,status,amount\nSF-001,deal@x.jp,won,\"1,500,000\"\n"))
			if status != 200 || !strings.Contains(string(body), `"applied":1`) {
				t.Fatalf("deal csv: %d %s", status, body)
			}
			status, body = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d", b.ID), "", nil)
			if decode[leadJSON](t, body).Stage != "customer" {
				t.Fatalf("after won deal: %s", body)
			}
			// PATCH by the CRM's id: a lost deal recycles the lead with its reason.
			c := create("patch@x.jp", "担当")
			if status, body := post("/api/v1/deals", `{"lead_id":`+fmt.Sprint(c.ID)+`,"external_id":"HS-9","status":"open","amount":500000}`); status != 200 {
				t.Fatalf("open HS-9: %d %s", status, body)
			}
			status, body = s.do(t, "PATCH", "/api/v1/deals/HS-9", "application/json", strings.NewReader(`{"status":"lost","reason":"競合に決定","close_date":"2026-06-30T00:00:00Z"}`))
			if status != 200 || !strings.Contains(string(body), `"stage":"recycled"`) {
				t.Fatalf("patch deal: %d %s", status, body)
			}
			if status, body := s.do(t, "PATCH", "/api/v1/deals/NOPE", "application/json", strings.NewReader(`{"status":"won"}`)); status != 404 {
				t.Fatalf("patch unknown deal: %d %s", status, body)
			}
			status, body = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/handoff", c.ID), "", nil)
			if !strings.Contains(string(body), `"lifecyclestage":"other"`) || !strings.Contains(string(body), "deal lost: 競合に決定") {
				t.Fatalf("handoff after lost deal: %s", body)
			}
			// The CLI imports deals too; an invalid row applies nothing.
			dir := t.TempDir()
			good := filepath.Join(dir, "deals.csv")
			_ = os.WriteFile(good, []byte("external_id,email,status,amount,close_date\nSF-7,patch@x.jp,won,2000000,2026-07-15\n"), 0o644)
			if out := s.cli(t, "import", "deals", good); !strings.Contains(out, "1 deals applied") {
				t.Fatalf("cli import deals: %s", out)
			}
			bad := filepath.Join(dir, "bad.csv")
			_ = os.WriteFile(bad, []byte("external_id,email,status\nSF-8,patch@x.jp,maybe\n"), 0o644)
			if _, errOut, err := s.cliErr("import", "deals", bad); err == nil || !strings.Contains(errOut, "bad.csv:2") {
				t.Fatalf("cli bad deals: %v %s", err, errOut)
			}
			status, body = s.do(t, "POST", "/api/v1/imports/deals", "text/csv", strings.NewReader("external_id,email,status\nSF-2,deal@x.jp,maybe\n"))
			if status != 400 || !strings.Contains(string(body), "line 2") {
				t.Fatalf("bad deal csv: %d %s", status, body)
			}
			status, body = s.do(t, "GET", "/api/v1/settings/rejection-reasons", "", nil)
			if status != 200 || !strings.Contains(string(body), "予算なし") {
				t.Fatalf("reasons: %d %s", status, body)
			}
			status, body = s.do(t, "PUT", "/api/v1/settings/rejection-reasons", "application/yaml", strings.NewReader("reasons:\n  - {id: timing, ja: 時期尚早}\n"))
			if status != 200 {
				t.Fatalf("put reasons: %d %s", status, body)
			}
			if status, body := post(fmt.Sprintf("/api/v1/leads/%d/disqualify", a.ID), `{"reason":"no-budget"}`); status != 400 {
				t.Fatalf("old reason after change: %d %s", status, body)
			}
		})
	}
}
