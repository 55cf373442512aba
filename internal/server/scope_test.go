package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// scopeFixture: two teams; reps rep1 and rep2 in east, rep3 in west, a
// manager; a lead of each rep and one of no one; keys.
type scopeFixture struct {
	db    *store.DB
	flow  *flow.Flow
	srv   *httptest.Server
	leads map[string]int64 // own, team, other, none
	keys  map[string]string
	t     *testing.T
}

func newScopeFixture(t *testing.T, db *store.DB) *scopeFixture {
	ctx := context.Background()
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := flow.New(db, q, nil)
	if err := f.EnsureModel(ctx); err != nil {
		t.Fatal(err)
	}
	fx := &scopeFixture{db: db, flow: f, leads: map[string]int64{}, keys: map[string]string{}, t: t}
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, team := range []string{"east", "west"} {
			if err := tx.CreateTeam(ctx, &store.Team{Name: team}, "test"); err != nil {
				return err
			}
		}
		for _, u := range []store.User{
			{Name: "rep1", Email: "rep1@example.co.jp", Role: "sales", Team: "east"},
			{Name: "rep2", Role: "sales", Team: "east"},
			{Name: "rep3", Role: "sales", Team: "west"},
			{Name: "boss", Role: "manager", Team: "east"},
			{Name: "watcher", Role: "viewer"},
		} {
			if err := tx.CreateUser(ctx, &u, "test"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for name, owner := range map[string]string{"own": "rep1", "team": "rep2", "other": "rep3", "none": ""} {
		email := name + "@scope.example.co.jp"
		company := "スコープ商事 " + name
		l, err := f.CreateLead(ctx, leadflow.LeadPatch{Email: &email, Company: &company}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if l, err = f.Reassign(ctx, l.ID, owner, "test"); err != nil {
				t.Fatal(err)
			}
		}
		fx.leads[name] = l.ID
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error {
		for name, nk := range map[string]store.NewAPIKey{
			"rep1":  {Name: "rep1-phone", Role: "sales", User: "rep1@example.co.jp"}, // by email
			"boss":  {Name: "boss-crm", Role: "manager", User: "boss"},
			"admin": {Name: "integration", Role: "admin"},
		} {
			_, key, err := tx.CreateAPIKeyFor(ctx, nk)
			if err != nil {
				return err
			}
			fx.keys[name] = key
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fx.srv = httptest.NewServer(New(Deps{Flow: f, DB: db, Version: "test"}))
	t.Cleanup(fx.srv.Close)
	return fx
}

func (fx *scopeFixture) call(key, method, path, body string) (int, string) {
	fx.t.Helper()
	req, _ := http.NewRequest(method, fx.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fx.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (fx *scopeFixture) lead(name string) *leadflow.Lead {
	fx.t.Helper()
	l, err := fx.db.FindLead(context.Background(), fx.leads[name])
	if err != nil {
		fx.t.Fatal(err)
	}
	return l
}

// TestSalesKeyScope: a sales key of rep1 reads and works rep1's lead and
// its team's (rep2's), and gets for rep3's lead and an unassigned one
// exactly what it gets for a lead that does not exist (404, same message),
// on every operation on a lead; nothing changes. A manager key sees all.
func TestSalesKeyScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newScopeFixture(t, db)
		if l := fx.lead("team"); l.Owner != "rep2" || l.Team != "east" {
			t.Fatalf("fixture: team lead %s/%s", l.Owner, l.Team)
		}
		const missing = 987654
		ops := []struct{ method, path, body string }{
			{"GET", "/api/v1/leads/%d", ""},
			{"GET", "/api/v1/leads/%d/timeline", ""},
			{"GET", "/api/v1/leads/%d/transitions", ""},
			{"GET", "/api/v1/leads/%d/score", ""},
			{"GET", "/api/v1/leads/%d/touches", ""},
			{"GET", "/api/v1/leads/%d/handoff", ""},
			{"GET", "/api/v1/leads/%d/sla", ""},
			{"GET", "/api/v1/leads/%d/assignments", ""},
			{"GET", "/api/v1/leads/%d/enrolments", ""},
			{"PUT", "/api/v1/leads/%d/bant", `{"budget":true}`},
			{"POST", "/api/v1/leads/%d/touches", `{"kind":"call","outcome":"connected"}`},
			{"POST", "/api/v1/leads/%d/accept", `{}`},
			{"POST", "/api/v1/leads/%d/qualify", `{}`},
			{"POST", "/api/v1/leads/%d/reject", `{"reason":"no_budget"}`},
			{"POST", "/api/v1/leads/%d/disqualify", `{"reason":"duplicate"}`},
			{"POST", "/api/v1/leads/%d/stage", `{"stage":"recycled","reason":"not now"}`},
		}
		// Invisible leads first: the visible ones are changed by the
		// allowed calls afterwards.
		for _, who := range []string{"other", "none"} {
			before := fx.lead(who)
			for _, op := range ops {
				code, body := fx.call(fx.keys["rep1"], op.method, fmt.Sprintf(op.path, fx.leads[who]), op.body)
				mcode, mbody := fx.call(fx.keys["rep1"], op.method, fmt.Sprintf(op.path, missing), op.body)
				if code != http.StatusNotFound || mcode != http.StatusNotFound {
					t.Errorf("%s %s on %s lead: %d (missing lead: %d), want 404: %s", op.method, op.path, who, code, mcode, body)
					continue
				}
				want := strings.ReplaceAll(mbody, strconv.Itoa(missing), strconv.FormatInt(fx.leads[who], 10))
				if body != want {
					t.Errorf("%s %s on %s lead tells it exists:\n%s\nvs a missing lead:\n%s", op.method, op.path, who, body, want)
				}
			}
			after := fx.lead(who)
			if after.UpdatedAt != before.UpdatedAt || after.Stage != before.Stage || after.BANT != before.BANT {
				t.Errorf("%s lead changed by refused calls: %+v -> %+v", who, before, after)
			}
			if ts, _ := db.TouchesOfLead(context.Background(), fx.leads[who]); len(ts) != 0 {
				t.Errorf("%s lead got touches %+v", who, ts)
			}
		}
		for _, who := range []string{"own", "team"} {
			for _, op := range ops {
				code, body := fx.call(fx.keys["rep1"], op.method, fmt.Sprintf(op.path, fx.leads[who]), op.body)
				if code == http.StatusNotFound || code == http.StatusForbidden || code >= 500 {
					t.Errorf("%s %s on %s lead: %d %s", op.method, op.path, who, code, body)
				}
			}
			if ts, _ := db.TouchesOfLead(context.Background(), fx.leads[who]); len(ts) != 1 || ts[0].Actor != "user:rep1" {
				t.Errorf("%s lead: touches %+v, want one by user:rep1", who, ts)
			}
		}
		// The manager key sees every lead.
		for _, who := range []string{"own", "team", "other", "none"} {
			if code, body := fx.call(fx.keys["boss"], "GET", fmt.Sprintf("/api/v1/leads/%d/handoff", fx.leads[who]), ""); code != http.StatusOK {
				t.Errorf("manager key on %s lead: %d %s", who, code, body)
			}
		}
	})
}

// TestSalesKeyLists: the lead list, the task list and the SLA clock list
// of a sales key hold its own and its team's only.
func TestSalesKeyLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newScopeFixture(t, db)
		ids := func(key, query string) []int64 {
			code, body := fx.call(key, "GET", "/api/v1/leads?limit=100"+query, "")
			if code != http.StatusOK {
				t.Fatalf("list %s: %d %s", query, code, body)
			}
			var p struct{ Items []leadflow.Lead }
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, l := range p.Items {
				out = append(out, l.ID)
			}
			slices.Sort(out)
			return out
		}
		want := []int64{fx.leads["own"], fx.leads["team"]}
		slices.Sort(want)
		for _, query := range []string{"", "&q=scope.example", "&q=スコープ商事", "&owner=rep3", "&q=sc"} {
			got := ids(fx.keys["rep1"], query)
			exp := want
			if query == "&owner=rep3" {
				exp = nil
			}
			if !slices.Equal(got, exp) {
				t.Errorf("sales key list %q: %v, want %v", query, got, exp)
			}
		}
		if got := ids(fx.keys["admin"], "&q=scope.example"); len(got) != 4 {
			t.Errorf("admin key list: %v", got)
		}
		if code, body := fx.call(fx.keys["rep1"], "GET", "/api/v1/nurture/tasks", ""); code != http.StatusOK {
			t.Errorf("own tasks: %d %s", code, body)
		}
		if code, body := fx.call(fx.keys["rep1"], "GET", "/api/v1/nurture/tasks?owner=rep2", ""); code != http.StatusOK {
			t.Errorf("team mate's tasks: %d %s", code, body)
		}
		if code, body := fx.call(fx.keys["rep1"], "GET", "/api/v1/nurture/tasks?owner=rep3", ""); code != http.StatusForbidden {
			t.Errorf("another team's tasks: %d %s", code, body)
		}
		if code, body := fx.call(fx.keys["rep1"], "GET", "/api/v1/sla/clocks?owner=rep3", ""); code != http.StatusForbidden {
			t.Errorf("another team's SLA clocks: %d %s", code, body)
		}
		code, body := fx.call(fx.keys["rep1"], "GET", "/api/v1/sla/clocks?status=all", "")
		var clocks struct{ Items []struct{ Owner string } }
		_ = json.Unmarshal([]byte(body), &clocks)
		for _, c := range clocks.Items {
			if c.Owner != "rep1" {
				t.Errorf("sales key's SLA clocks include %s's", c.Owner)
			}
		}
		if code != http.StatusOK {
			t.Errorf("own SLA clocks: %d %s", code, body)
		}
	})
}

// TestSalesKeyTasksAndDeals: nurture tasks complete as on the queue page
// (own: yes; a team mate's: 403; another team's: not found), deals and
// enrolments of unseen leads are not found, a key cannot act for someone
// else, and a key follows its user (deactivated: 401; role lowered: 403).
func TestSalesKeyTasksAndDeals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newScopeFixture(t, db)
		ctx := context.Background()
		seq := &store.Sequence{Name: "scope", Active: true, UpdatedBy: "test", Source: `name: scope
enrol:
  stages: [recycled]
templates:
  hello:
    subject: "ご案内"
    text: "配信停止: {{.UnsubscribeURL}}"
steps:
  - id: first
    email: hello
  - wait: 3 business days
`}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SaveSequence(ctx, seq) }); err != nil {
			t.Fatal(err)
		}
		tasks, enrols := map[string]int64{}, map[string]int64{}
		for who, owner := range map[string]string{"own": "rep1", "team": "rep2", "other": "rep3"} {
			e, why, err := fx.flow.EnrolInSequence(ctx, seq.ID, fx.leads[who], "test")
			if err != nil || e == nil {
				t.Fatalf("enrol %s: %v %s", who, err, why)
			}
			enrols[who] = e.ID
			task := store.Task{EnrolmentID: e.ID, Step: 9, SequenceID: seq.ID, LeadID: fx.leads[who], Kind: "call",
				Title: "フォロー電話", Owner: owner, DueAt: db.Now()}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.CreateTask(ctx, &task) }); err != nil {
				t.Fatal(err)
			}
			open, err := db.OpenTasks(ctx, owner, 10)
			if err != nil || len(open) != 1 {
				t.Fatalf("tasks of %s: %+v %v", owner, open, err)
			}
			tasks[who] = open[0].ID
		}
		complete := func(who string) (int, string) {
			return fx.call(fx.keys["rep1"], "POST", fmt.Sprintf("/api/v1/nurture/tasks/%d/complete", tasks[who]), `{"outcome":"connected"}`)
		}
		if code, body := complete("other"); code != http.StatusNotFound {
			t.Errorf("another team's task: %d %s", code, body)
		}
		_, missingBody := fx.call(fx.keys["rep1"], "POST", "/api/v1/nurture/tasks/99999/complete", `{"outcome":"connected"}`)
		if _, body := complete("other"); body != strings.ReplaceAll(missingBody, "99999", strconv.FormatInt(tasks["other"], 10)) {
			t.Errorf("another team's task tells it exists: %s vs %s", body, missingBody)
		}
		if code, body := complete("team"); code != http.StatusForbidden || !strings.Contains(body, "belongs to rep2") {
			t.Errorf("team mate's task: %d %s", code, body)
		}
		if code, body := complete("own"); code != http.StatusOK {
			t.Errorf("own task: %d %s", code, body)
		}
		if open, _ := db.OpenTasks(ctx, "", 10); len(open) != 2 {
			t.Errorf("open tasks after: %+v", open)
		}
		if code, body := fx.call(fx.keys["rep1"], "GET", fmt.Sprintf("/api/v1/nurture/enrolments/%d/sends", enrols["other"]), ""); code != http.StatusNotFound {
			t.Errorf("sends of another team's enrolment: %d %s", code, body)
		}
		if code, body := fx.call(fx.keys["rep1"], "POST", fmt.Sprintf("/api/v1/nurture/enrolments/%d/exit", enrols["other"]), `{}`); code != http.StatusNotFound {
			t.Errorf("exit of another team's enrolment: %d %s", code, body)
		}
		if code, body := fx.call(fx.keys["rep1"], "POST", fmt.Sprintf("/api/v1/nurture/enrolments/%d/exit", enrols["own"]), `{}`); code != http.StatusOK {
			t.Errorf("exit of own enrolment: %d %s", code, body)
		}

		// Deals: by lead id, by email, by an existing deal of another team.
		for _, body := range []string{
			fmt.Sprintf(`{"external_id":"d-1","lead_id":%d,"status":"open"}`, fx.leads["other"]),
			`{"external_id":"d-2","email":"other@scope.example.co.jp","status":"open"}`,
			`{"external_id":"d-3","email":"none@scope.example.co.jp","status":"open"}`,
		} {
			if code, out := fx.call(fx.keys["rep1"], "POST", "/api/v1/deals", body); code != http.StatusNotFound {
				t.Errorf("deal %s: %d %s", body, code, out)
			}
		}
		if code, out := fx.call(fx.keys["admin"], "POST", "/api/v1/deals",
			fmt.Sprintf(`{"external_id":"d-west","lead_id":%d,"status":"open"}`, fx.leads["other"])); code != http.StatusOK {
			t.Fatalf("admin deal: %d %s", code, out)
		}
		if code, out := fx.call(fx.keys["rep1"], "PATCH", "/api/v1/deals/d-west", `{"status":"won"}`); code != http.StatusNotFound {
			t.Errorf("patch another team's deal: %d %s", code, out)
		}
		if code, out := fx.call(fx.keys["rep1"], "POST", "/api/v1/deals",
			fmt.Sprintf(`{"external_id":"d-west","lead_id":%d,"status":"won"}`, fx.leads["own"])); code != http.StatusNotFound {
			t.Errorf("take over another team's deal: %d %s", code, out)
		}
		if l := fx.lead("other"); l.Stage != leadflow.StageOpportunity {
			t.Errorf("other lead moved by refused deal calls: %s", l.Stage)
		}
		if code, out := fx.call(fx.keys["rep1"], "POST", "/api/v1/deals",
			fmt.Sprintf(`{"external_id":"d-own","lead_id":%d,"status":"open"}`, fx.leads["own"])); code != http.StatusOK {
			t.Errorf("own deal: %d %s", code, out)
		}

		// The key acts for its user only.
		code, body := fx.call(fx.keys["rep1"], "POST", fmt.Sprintf("/api/v1/leads/%d/touches", fx.leads["own"]),
			`{"kind":"call","outcome":"x","user":"rep2"}`)
		if code != http.StatusForbidden || !strings.Contains(body, "acts for rep1 only") {
			t.Errorf("acting for another user: %d %s", code, body)
		}
		// Role lowered to viewer: reads yes, work no.
		role := "viewer"
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.UpdateUser(ctx, "rep1", store.UserUpdate{Role: &role}, "test")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if code, body := fx.call(fx.keys["rep1"], "POST", fmt.Sprintf("/api/v1/leads/%d/touches", fx.leads["own"]),
			`{"kind":"call","outcome":"x"}`); code != http.StatusForbidden || !strings.Contains(body, "whose role viewer lacks permission leads.work") {
			t.Errorf("key of a user who became a viewer: %d %s", code, body)
		}
		if code, _ := fx.call(fx.keys["rep1"], "GET", fmt.Sprintf("/api/v1/leads/%d", fx.leads["own"]), ""); code != http.StatusOK {
			t.Errorf("key of a viewer reads: %d", code)
		}
		// Deactivated: the key stops working.
		off := false
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.UpdateUser(ctx, "rep1", store.UserUpdate{Active: &off}, "test")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if code, body := fx.call(fx.keys["rep1"], "GET", fmt.Sprintf("/api/v1/leads/%d", fx.leads["own"]), ""); code != http.StatusUnauthorized ||
			!strings.Contains(body, "deactivated") {
			t.Errorf("key of a deactivated user: %d %s", code, body)
		}
	})
}

// TestAPIKeyUsers: creating keys of users through the API: a sales key
// needs a user; a key cannot have more permissions than its user; unknown
// users are refused; an unbound sales key (made before keys had users) is
// refused with a message saying what to do.
func TestAPIKeyUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newScopeFixture(t, db)
		for _, tc := range []struct {
			body string
			code int
			want string
		}{
			{`{"name":"k1","role":"sales"}`, http.StatusBadRequest, "a sales key acts for one salesperson"},
			{`{"name":"k2","role":"sales","user":"nobody"}`, http.StatusBadRequest, "no user with name or email"},
			{`{"name":"k3","role":"manager","user":"rep2"}`, http.StatusBadRequest, "lacks leads.export, leads.assign"},
			{`{"name":"k4","role":"sales","user":"watcher"}`, http.StatusBadRequest, "a key cannot do more than its user"},
			{`{"name":"k5","role":"sales","user":"boss"}`, http.StatusCreated, `"user":"boss"`},
			{`{"name":"k6","role":"viewer","user":"rep2"}`, http.StatusCreated, `"role":"viewer"`},
		} {
			code, body := fx.call(fx.keys["admin"], "POST", "/api/v1/apikeys", tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d %s, want %d with %q", tc.body, code, body, tc.code, tc.want)
			}
		}
		var legacy string
		var legacyID int64
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			// What migration 00015 leaves of a sales key made before.
			k, key, err := tx.CreateAPIKeyWithRole(context.Background(), "old", "viewer")
			if err != nil {
				return err
			}
			legacy = key
			legacyID = k.ID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write.Exec(db.Dialect.Rebind("UPDATE api_keys SET role = 'sales' WHERE id = ?"), legacyID); err != nil {
			t.Fatal(err)
		}
		code, body := fx.call(legacy, "GET", "/api/v1/leads", "")
		if code != http.StatusForbidden || !strings.Contains(body, "belongs to no user") {
			t.Errorf("sales key of no user: %d %s", code, body)
		}
		keys, err := db.APIKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		users := map[string]string{}
		for _, k := range keys {
			users[k.Name] = k.User
		}
		if users["rep1-phone"] != "rep1" || users["k5"] != "boss" || users["integration"] != "" {
			t.Errorf("key users %v", users)
		}
	})
}
