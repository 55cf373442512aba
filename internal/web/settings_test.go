package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// badLine reports whether the page marks source line n as having a problem.
func badLine(body string, n string) bool {
	return strings.Contains(body, `<span class="ln bad" id="L`+n+`">`)
}

// TestSettingsDocuments edits the routing rules, the SLA policies and
// calendar, and the rejection reasons: a valid document is saved, an
// invalid one changes nothing and shows its problem at its line, and
// roles other than admin are refused.
func TestSettingsDocuments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		admin, marketing := b.login(t, "admin1"), b.login(t, "marketing1")

		for _, tc := range []struct {
			doc, good, bad, badLine, want string
		}{
			{"routing",
				"rules:\n  - id: big\n    when: lead.employees >= 1000\n    assign: {user: manager1}\nfallback: {queue: unassigned}\n",
				"rules:\n  - id: big\n    when: lead.employees >=\n    assign: {user: manager1}\n", "3", "振り分けルール"},
			{"sla",
				"calendar:\n  time_zone: Asia/Tokyo\n  company_holidays:\n    - {dates: \"2026-08-12..2026-08-14\", name: 夏季休暇}\npolicies:\n  - {id: mql-accept, stage: mql, target: accept, within: 2d}\n",
				"calendar:\n  time_zone: Asia/Tokyo\npolicies:\n  - {id: mql-accept, stage: nowhere, target: accept, within: 2d}\n", "4", "夏季休暇"},
			{"reasons",
				"reasons:\n  - {id: no-budget, ja: 予算なし, en: No budget}\n  - {id: timing, ja: 時期尚早, en: Too early}\n",
				"reasons:\n  - {id: no-budget, ja: 予算なし, en: No budget}\n  - {id: no-budget, ja: 重複, en: Duplicate}\n", "3", "差し戻し理由"},
		} {
			path := "/settings/" + tc.doc
			if r := b.get(t, admin, path); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `name="source"`) {
				t.Fatalf("GET %s: %d", path, r.StatusCode)
			}
			if r := b.get(t, marketing, path); r.StatusCode != http.StatusForbidden {
				t.Errorf("GET %s as marketing: %d", path, r.StatusCode)
			}
			if r := b.post(t, marketing, path, url.Values{"source": {tc.good}}); r.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s as marketing: %d", path, r.StatusCode)
			}
			if _, err := db.Setting(ctx, settingsDocs[tc.doc].key); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
				t.Fatalf("%s was stored by a forbidden post: %v", tc.doc, err)
			}
			r := b.post(t, admin, path, url.Values{"source": {tc.good}})
			if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != path+"?saved=1" {
				t.Fatalf("POST %s: %d %s", path, r.StatusCode, r.Body)
			}
			st, err := db.Setting(ctx, settingsDocs[tc.doc].key)
			if err != nil || st.Value != tc.good || st.UpdatedBy != "user:admin1" {
				t.Fatalf("%s stored %+v %v", tc.doc, st, err)
			}
			if r := b.get(t, admin, path+"?saved=1"); !strings.Contains(r.Body, "保存しました") || !strings.Contains(r.Body, tc.want) {
				t.Errorf("%s after saving: %.3000s", path, r.Body)
			}
			r = b.post(t, admin, path, url.Values{"source": {tc.bad}}, "Accept-Language", "en")
			if r.StatusCode != http.StatusUnprocessableEntity || !badLine(r.Body, tc.badLine) || !strings.Contains(r.Body, "Nothing changed") {
				t.Errorf("invalid %s: %d, want the problem at line %s:\n%.4000s", tc.doc, r.StatusCode, tc.badLine, r.Body)
			}
			if st, _ := db.Setting(ctx, settingsDocs[tc.doc].key); st.Value != tc.good {
				t.Errorf("an invalid %s changed the stored one", tc.doc)
			}
		}
		// The SLA page lists the holidays of the year (national and company).
		r := b.get(t, admin, "/settings/sla", "Accept-Language", "en")
		for _, want := range []string{"Closed days in 2026", "元日", "夏季休暇", "Company holiday", "Asia/Tokyo"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("SLA page lacks %q", want)
			}
		}
		reasons, err := b.flow.RejectionReasons(ctx)
		if err != nil || len(reasons) != 2 || reasons[1].ID != "timing" {
			t.Errorf("reasons in force: %+v %v", reasons, err)
		}
	})
}

var keyRe = regexp.MustCompile(`<code class="secret">([^<]+)</code>`)

// TestSettingsKeys creates an API key with a role and a write key (shown
// once), refuses a key without a name, revokes both, and refuses
// non-admins.
func TestSettingsKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		admin, manager := b.login(t, "admin1"), b.login(t, "manager1")
		if r := b.post(t, manager, "/settings/keys", url.Values{"kind": {"api"}, "name": {"x"}, "role": {"admin"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("manager creates a key: %d", r.StatusCode)
		}
		if r := b.get(t, manager, "/settings/keys"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("manager sees the keys: %d", r.StatusCode)
		}
		r := b.post(t, admin, "/settings/keys", url.Values{"kind": {"api"}, "name": {"crm sync"}, "role": {"sales"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "a sales key acts for one salesperson") {
			t.Fatalf("sales key of no user: %d", r.StatusCode)
		}
		if !strings.Contains(r.Body, `<option value="sales1" selected`) && !strings.Contains(r.Body, `<option value="sales1" >`) {
			t.Fatalf("the form offers no users: %.3000s", r.Body)
		}
		r = b.post(t, admin, "/settings/keys", url.Values{"kind": {"api"}, "name": {"crm sync"}, "role": {"sales"}, "user": {"sales1"}})
		m := keyRe.FindStringSubmatch(r.Body)
		if r.StatusCode != http.StatusCreated || m == nil || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create API key: %d %.2000s", r.StatusCode, r.Body)
		}
		k, err := db.APIKeyByKey(ctx, m[1])
		if err != nil || k.Role != "sales" || k.Name != "crm sync" || k.User != "sales1" {
			t.Fatalf("created key %+v %v", k, err)
		}
		if r := b.get(t, admin, "/settings/keys"); strings.Contains(r.Body, m[1]) || !strings.Contains(r.Body, "crm sync") ||
			!strings.Contains(r.Body, "<td>sales1</td>") {
			t.Fatal("the key is shown again, or not listed with its user")
		}
		r = b.post(t, admin, "/settings/keys", url.Values{"kind": {"api"}, "name": {"  "}, "role": {"sales"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `class="flash error"`) {
			t.Fatalf("key without a name: %d", r.StatusCode)
		}
		r = b.post(t, admin, "/settings/keys", url.Values{"kind": {"api"}, "name": {"x"}, "role": {"root"}})
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "unknown role") {
			t.Fatalf("key with an unknown role: %d", r.StatusCode)
		}
		r = b.post(t, admin, "/settings/keys", url.Values{"kind": {"write"}, "name": {"web site"}})
		w := keyRe.FindStringSubmatch(r.Body)
		if r.StatusCode != http.StatusCreated || w == nil || !strings.HasPrefix(w[1], store.WriteKeyPrefix) {
			t.Fatalf("create write key: %d", r.StatusCode)
		}
		src, err := db.SourceByWriteKey(ctx, w[1])
		if err != nil {
			t.Fatal(err)
		}
		if r := b.post(t, manager, "/settings/keys/"+itoa(int(k.ID))+"/revoke", nil); r.StatusCode != http.StatusForbidden {
			t.Fatalf("manager revokes: %d", r.StatusCode)
		}
		for _, p := range []string{"/settings/keys/" + itoa(int(k.ID)) + "/revoke", "/settings/sources/" + itoa(int(src.ID)) + "/revoke"} {
			if r := b.post(t, admin, p, nil); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d", p, r.StatusCode)
			}
			if r := b.post(t, admin, p, nil); r.StatusCode != http.StatusNotFound {
				t.Fatalf("%s twice: %d", p, r.StatusCode)
			}
		}
		if _, err := db.APIKeyByKey(ctx, m[1]); leadflow.ErrorCode(err) != leadflow.EUNAUTHORIZED {
			t.Errorf("revoked API key: %v", err)
		}
		if _, err := db.SourceByWriteKey(ctx, w[1]); leadflow.ErrorCode(err) != leadflow.EUNAUTHORIZED {
			t.Errorf("revoked write key: %v", err)
		}
	})
}

// TestSettingsTeams creates a team with a manager, puts a user in it,
// changes a role, refuses a bad team name and non-admins.
func TestSettingsTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		admin, sales := b.login(t, "admin1"), b.login(t, "sales1")
		if r := b.post(t, sales, "/settings/teams", url.Values{"team_name": {"east"}}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("sales creates a team: %d", r.StatusCode)
		}
		if r := b.post(t, admin, "/settings/teams", url.Values{"team_name": {"east"}, "manager": {"manager1"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("create team: %d %s", r.StatusCode, r.Body)
		}
		if r := b.post(t, admin, "/settings/users/sales1", url.Values{"team": {"east"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("set team: %d %s", r.StatusCode, r.Body)
		}
		if r := b.post(t, admin, "/settings/users/viewer1", url.Values{"role": {"marketing"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("set role: %d %s", r.StatusCode, r.Body)
		}
		u, err := db.FindUser(ctx, "sales1")
		if err != nil || u.Team != "east" {
			t.Fatalf("sales1 %+v %v", u, err)
		}
		if u, _ := db.FindUser(ctx, "viewer1"); u.Role != "marketing" {
			t.Fatalf("viewer1 role %s", u.Role)
		}
		tm, err := db.FindTeam(ctx, "east")
		if err != nil || tm.Manager != "manager1" {
			t.Fatalf("team %+v %v", tm, err)
		}
		if r := b.post(t, admin, "/settings/teams/east", url.Values{"manager": {"nobody"}}); r.StatusCode < 400 || r.StatusCode >= 500 ||
			!strings.Contains(r.Body, `class="flash error"`) {
			t.Fatalf("unknown manager: %d", r.StatusCode)
		}
		if r := b.post(t, admin, "/settings/teams", url.Values{"team_name": {""}}); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("team without a name: %d", r.StatusCode)
		}
		if tm, _ := db.FindTeam(ctx, "east"); tm.Manager != "manager1" {
			t.Fatal("a refused change changed the team")
		}
		if r := b.get(t, admin, "/settings/users?done=team_created&name=east"); !strings.Contains(r.Body, "チーム east を作成しました") {
			t.Error("no confirmation")
		}
	})
}

// TestSettingsWebhooks adds an endpoint (secret shown once), refuses a bad
// URL, disables, re-enables and deletes it; non-admins are refused.
func TestSettingsWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		admin, marketing := b.login(t, "admin1"), b.login(t, "marketing1")
		form := url.Values{"url": {"https://hooks.example.com/leadflow"}, "description": {"CRM"}, "event_types": {"lead.assigned"}}
		if r := b.post(t, marketing, "/settings/webhooks", form); r.StatusCode != http.StatusForbidden {
			t.Fatalf("marketing adds a webhook: %d", r.StatusCode)
		}
		r := b.post(t, admin, "/settings/webhooks", form)
		if r.StatusCode != http.StatusCreated || keyRe.FindStringSubmatch(r.Body) == nil {
			t.Fatalf("add webhook: %d %.2000s", r.StatusCode, r.Body)
		}
		eps, _ := db.WebhookEndpoints(ctx)
		if len(eps) != 1 || eps[0].URL != form.Get("url") || len(eps[0].EventTypes) != 1 || !eps[0].Active {
			t.Fatalf("endpoints %+v", eps)
		}
		id := itoa(int(eps[0].ID))
		for _, bad := range []url.Values{{"url": {"ftp://example.com"}}, {"url": {"https://x.example"}, "event_types": {"no.such"}}} {
			r := b.post(t, admin, "/settings/webhooks", bad)
			if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, `class="flash error"`) {
				t.Errorf("bad webhook %v: %d", bad, r.StatusCode)
			}
		}
		if r := b.post(t, admin, "/settings/webhooks/"+id+"/active", url.Values{"active": {"0"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", r.StatusCode)
		}
		if e, _ := db.WebhookEndpoint(ctx, eps[0].ID); e.Active {
			t.Fatal("still active")
		}
		if r := b.post(t, marketing, "/settings/webhooks/"+id+"/delete", nil); r.StatusCode != http.StatusForbidden {
			t.Fatalf("marketing deletes: %d", r.StatusCode)
		}
		if r := b.post(t, admin, "/settings/webhooks/"+id+"/delete", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", r.StatusCode)
		}
		if eps, _ := db.WebhookEndpoints(ctx); len(eps) != 0 {
			t.Fatal("not deleted")
		}
	})
}
