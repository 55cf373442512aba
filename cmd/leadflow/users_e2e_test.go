package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type userJSON struct {
	Name         string `json:"name"`
	Role         string `json:"role"`
	Team         string `json:"team"`
	Active       bool   `json:"active"`
	MaxOpenLeads int    `json:"max_open_leads"`
	OpenLeads    int    `json:"open_leads"`
}

type assignmentJSON struct {
	Owner         string `json:"owner"`
	Team          string `json:"team"`
	Queue         string `json:"queue"`
	Rule          string `json:"rule"`
	PreviousOwner string `json:"previous_owner"`
	Actor         string `json:"actor"`
}

const e2eRules = `rules:
  - id: enterprise
    when: lead.employees >= 1000
    assign: {user: sato}
  - id: manufacturing
    when: lead.industry == "manufacturing"
    assign: {team: field-mfg, strategy: round_robin}
  - id: ghosts
    when: lead.industry == "ghost"
    assign: {team: nobody-here}
fallback: {queue: triage}
`

// TestUsersEndToEnd sets up users, teams and routing rules through the CLI
// and the API, routes leads created by the API, reassigns one by hand and
// reads the assignment history.
func TestUsersEndToEnd(t *testing.T) {
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, backend)
			send := func(method, path, contentType, body string) (int, []byte) {
				t.Helper()
				return s.do(t, method, path, contentType, strings.NewReader(body))
			}

			// Teams and users: some by CLI, some by API.
			s.cli(t, "team", "create", "--name", "field-mfg")
			if status, body := send("POST", "/api/v1/teams", "application/json", `{"name":"field-ent"}`); status != 201 {
				t.Fatalf("create team: %d %s", status, body)
			}
			s.cli(t, "user", "create", "--name", "ito", "--email", "ito@example.jp", "--role", "sales", "--team", "field-mfg")
			s.cli(t, "user", "create", "--name", "abe", "--role", "sales", "--team", "field-mfg", "--max-open", "10", "--display-name", "阿部 健")
			for _, body := range []string{
				`{"name":"sato","role":"sales","team":"field-ent","max_open_leads":1}`,
				`{"name":"boss","role":"manager","team":"field-mfg"}`,
			} {
				if status, resp := send("POST", "/api/v1/users", "application/json", body); status != 201 || strings.Contains(string(resp), "password") {
					t.Fatalf("create user: %d %s", status, resp)
				}
			}
			if status, body := send("PATCH", "/api/v1/teams/field-mfg", "application/json", `{"manager":"boss"}`); status != 200 ||
				!strings.Contains(string(body), `"manager":"boss"`) {
				t.Fatalf("set manager: %d %s", status, body)
			}
			// boss manages, but does not take leads.
			if status, body := send("PATCH", "/api/v1/users/boss", "application/json", `{"active":false}`); status != 200 ||
				decode[userJSON](t, body).Active {
				t.Fatalf("deactivate: %d %s", status, body)
			}
			for _, tc := range []struct {
				body   string
				status int
			}{
				{`{"name":"ito","role":"sales"}`, 409},
				{`{"name":"x","role":"sales","team":"ghost"}`, 400},
				{`{"name":"x","role":"boss"}`, 422},
			} {
				if status, body := send("POST", "/api/v1/users", "application/json", tc.body); status != tc.status {
					t.Errorf("create %s: %d %s, want %d", tc.body, status, body, tc.status)
				}
			}
			if _, errOut, err := s.cliErr("user", "create", "--name", "bad name", "--role", "sales"); err == nil || !strings.Contains(message(err), "may hold only") {
				t.Errorf("CLI bad name: %v %s", err, errOut)
			}

			// Routing rules: defaults first; a broken file is refused with
			// its position and changes nothing.
			status, body := send("GET", "/api/v1/settings/routing", "", "")
			if status != 200 || !strings.Contains(string(body), `"default":true`) || !strings.Contains(string(body), `"fallback":"unassigned"`) {
				t.Fatalf("default routing: %d %s", status, body)
			}
			status, body = send("PUT", "/api/v1/settings/routing", "application/yaml", strings.Replace(e2eRules, "lead.employees", "lead.employes", 1))
			p := decode[problemJSON](t, body)
			if status != 400 || len(p.Errors) != 1 || p.Errors[0].Location != "routing.yaml:3:15" || !strings.Contains(p.Errors[0].Message, "employes") {
				t.Fatalf("invalid rules: %d %s", status, body)
			}
			status, body = send("PUT", "/api/v1/settings/routing", "application/yaml", e2eRules)
			if status != 200 || !strings.Contains(string(body), `team \"nobody-here\" does not exist`) || !strings.Contains(string(body), `"default":false`) {
				t.Fatalf("set rules: %d %s", status, body)
			}
			if out := s.cli(t, "routing", "show"); !strings.Contains(out, "field-mfg, strategy: round_robin") || !strings.Contains(out, "set by api:test") {
				t.Fatalf("routing show:\n%s", out)
			}
			bad := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(bad, []byte("rules:\n  - id: x\n    when: lead.industry ==\n    assign: {user: sato}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.cliErr("routing", "set", bad); err == nil || exitCode(err) == 0 || !strings.Contains(message(err), "bad.yaml:3:") {
				t.Fatalf("CLI invalid rules: %v", err)
			}

			// Leads created by the API, routed now.
			create := func(email, attrs string) leadJSON {
				t.Helper()
				status, body := send("POST", "/api/v1/leads", "application/json", fmt.Sprintf(`{"email":%q,%s}`, email, attrs))
				if status != 201 {
					t.Fatalf("create lead: %d %s", status, body)
				}
				return decode[leadJSON](t, body)
			}
			route := func(id int64) (leadJSON, *assignmentJSON) {
				t.Helper()
				status, body := send("POST", fmt.Sprintf("/api/v1/leads/%d/route", id), "", "")
				if status != 200 {
					t.Fatalf("route: %d %s", status, body)
				}
				r := decode[struct {
					Lead       leadJSON        `json:"lead"`
					Assignment *assignmentJSON `json:"assignment"`
				}](t, body)
				return r.Lead, r.Assignment
			}
			big := create("cio@bigcorp.jp", `"employees":5000,"industry":"manufacturing"`)
			if l, a := route(big.ID); l.Owner != "sato" || a == nil || a.Rule != "enterprise" || a.Actor != "api:test" {
				t.Fatalf("enterprise: %+v %+v", l, a)
			}
			var owners []string
			for i := range 3 {
				l := create(fmt.Sprintf("mfg%d@factory.jp", i), `"industry":"manufacturing"`)
				// Leads are open only from mql on; move them there so capacity counts.
				if status, body := send("POST", fmt.Sprintf("/api/v1/leads/%d/stage", l.ID), "application/json", `{"stage":"mql"}`); status != 200 {
					t.Fatalf("to mql: %d %s", status, body)
				}
				l, _ = route(l.ID)
				owners = append(owners, l.Owner)
			}
			if got := strings.Join(owners, " "); got != "abe ito abe" {
				t.Fatalf("round robin (boss inactive): %s", got)
			}
			if l, a := route(big.ID); l.Owner != "sato" || a != nil {
				t.Fatalf("routing again moved the lead: %+v %+v", l, a)
			}
			queued := create("student@gmail.com", `"industry":"education"`)
			if l, a := route(queued.ID); l.Owner != "" || a == nil || a.Queue != "triage" || a.Rule != "fallback" {
				t.Fatalf("fallback: %+v %+v", l, a)
			}

			// Reassign by hand, then read the history.
			path := fmt.Sprintf("/api/v1/leads/%d/assign", big.ID)
			if status, body := send("POST", path, "application/json", `{"owner":"boss"}`); status != 400 || !strings.Contains(string(body), "inactive") {
				t.Fatalf("assign to inactive: %d %s", status, body)
			}
			if status, body := send("POST", path, "application/json", `{"owner":"ghost"}`); status != 400 {
				t.Fatalf("assign to unknown: %d %s", status, body)
			}
			status, body = send("POST", path, "application/json", `{"owner":"ito"}`)
			if status != 200 || decode[leadJSON](t, body).Owner != "ito" {
				t.Fatalf("assign: %d %s", status, body)
			}
			status, body = send("GET", fmt.Sprintf("/api/v1/leads/%d/assignments", big.ID), "", "")
			hist := decode[struct {
				Items []assignmentJSON `json:"items"`
			}](t, body)
			if status != 200 || len(hist.Items) != 2 || hist.Items[1].Rule != "manual" || hist.Items[1].PreviousOwner != "sato" ||
				hist.Items[1].Team != "field-mfg" || hist.Items[0].Owner != "sato" {
				t.Fatalf("assignments: %d %s", status, body)
			}
			if status, _ := send("GET", "/api/v1/leads/999999/assignments", "", ""); status != 404 {
				t.Fatalf("assignments of a missing lead: %d", status)
			}

			// Users and teams read back, with open lead counts.
			status, body = send("GET", "/api/v1/users?team=field-mfg&active=true", "", "")
			users := decode[struct {
				Items []userJSON `json:"items"`
			}](t, body)
			if status != 200 || len(users.Items) != 2 || users.Items[0].Name != "abe" || users.Items[0].OpenLeads != 2 ||
				users.Items[1].Name != "ito" || users.Items[1].OpenLeads != 1 || strings.Contains(string(body), "password") {
				t.Fatalf("users: %d %s", status, body)
			}
			if status, body := send("GET", "/api/v1/teams/field-mfg", "", ""); status != 200 || !strings.Contains(string(body), `"round_robin_last":"abe"`) ||
				!strings.Contains(string(body), `"name":"boss"`) {
				t.Fatalf("team: %d %s", status, body)
			}
			if status, _ := send("GET", "/api/v1/users/ghost", "", ""); status != 404 {
				t.Fatalf("missing user: %d", status)
			}
			out := s.cli(t, "user", "list")
			if !strings.Contains(out, "阿部 健") || !strings.Contains(out, "inactive") {
				t.Fatalf("user list:\n%s", out)
			}
			if out := s.cli(t, "team", "list"); !strings.Contains(out, "boss (inactive)") || !strings.Contains(out, "field-ent") {
				t.Fatalf("team list:\n%s", out)
			}
		})
	}
}
