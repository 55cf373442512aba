package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// BenchmarkPages renders every page of the UI, server-side (the handler
// called directly, no network), as a logged-in admin and a logged-in
// sales rep, against the database named by LEADFLOW_BENCH_DB (a DSN) or
// LEADFLOW_BENCH_DATA_DIR (an embedded SQLite data dir), e.g. one made by
//
//	go run ./cmd/leadflow gen --leads 1000000 --events 2000000 --data-dir /tmp/h5ui
//	LEADFLOW_BENCH_DATA_DIR=/tmp/h5ui go test ./internal/web/ -run '^$' -bench Pages -benchtime 20x
//
// The figure to read is ns/op of each sub-benchmark (one page render);
// docs/benchmarks.md ("Web pages") records them. It adds two users
// (bench-admin, bench-sales) and gives bench-sales 300 open leads the
// first time it runs on a database.
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	db := storetest.BenchDB(b)
	if err := jobs.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		b.Fatal(err)
	}
	f := flow.New(db, q, nil)
	if err := f.EnsureModel(ctx); err != nil {
		b.Fatal(err)
	}
	for _, u := range []store.User{
		{Name: "bench-admin", DisplayName: "Bench Admin", Role: "admin"},
		{Name: "bench-sales", DisplayName: "Bench Sales", Role: "sales"},
	} {
		if err := CreateUser(ctx, db, &u, testPassword, "bench"); err != nil && leadflow.ErrorCode(err) != leadflow.ECONFLICT {
			b.Fatal(err)
		}
	}
	// bench-sales works a realistic queue: 300 open leads.
	mine, _, err := db.FindLeads(ctx, store.LeadFilter{Owner: "bench-sales", Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if len(mine) == 0 {
		b.Log("giving bench-sales 300 open leads")
		open, _, err := db.FindLeads(ctx, store.LeadFilter{Stage: openStages, Sort: "-score", Limit: 300})
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range open {
			if _, err := f.Reassign(ctx, l.ID, "bench-sales", "bench"); err != nil {
				b.Fatal(err)
			}
		}
	}
	// A lead of bench-sales: a salesperson sees its own and its team's only.
	own, _, err := db.FindLeads(ctx, store.LeadFilter{Owner: "bench-sales", Limit: 1})
	if err != nil || len(own) == 0 {
		b.Fatalf("bench-sales has no lead: %v", err)
	}
	_, hd, err := newHandler(Deps{Flow: f, DB: db, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Log("logging in")
	admin, sales := benchLogin(b, hd, "bench-admin"), benchLogin(b, hd, "bench-sales")

	// Values for the filters: those of the highest-scored lead (many
	// events), a word of its company name.
	busiest, _, err := db.FindLeads(ctx, store.LeadFilter{Sort: "-score", Limit: 1})
	if err != nil || len(busiest) == 0 {
		b.Fatalf("no lead in the data set: %v", err)
	}
	l := busiest[0]
	word := l.Company
	if r := []rune(word); len(r) > 3 {
		word = string(r[:3])
	}
	page2 := ""
	if _, next, err := db.FindLeads(ctx, store.LeadFilter{Limit: 50}); err == nil && next != "" {
		page2 = next
	}
	id := strconv.FormatInt(l.ID, 10)
	qs := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return "/leads?" + v.Encode()
	}
	pages := []struct {
		name, path string
		cookie     *http.Cookie
	}{
		{"dashboard", "/", admin},
		{"dashboard-365d", "/?days=365", admin},
		{"queue", "/queue", sales},
		{"leads", "/leads", admin},
		{"leads-page2", "/leads?cursor=" + page2, admin},
		{"leads-stage-mql", qs("stage", "mql"), admin},
		{"leads-open-by-score", qs("stage", "open", "sort", "-score"), admin},
		{"leads-recycled", qs("stage", "recycled"), admin},
		{"leads-industry-score", qs("industry", l.Industry, "smin", "30"), admin},
		{"leads-source-created", qs("source", l.FirstTouch.Source, "sort", "-created_at"), admin},
		{"leads-campaign", qs("campaign", l.FirstTouch.Campaign), admin},
		{"leads-updated-7d", qs("updated", "7"), admin},
		{"leads-owner", qs("owner", "bench-sales"), admin},
		{"leads-search", qs("q", word), admin},
		{"leads-search-email", qs("q", l.Email), admin},
		{"lead", "/leads/" + id, admin},
		{"lead-sales", "/leads/" + strconv.FormatInt(own[0].ID, 10), sales},
		{"leads-sales", "/leads", sales},
		{"model", "/model", admin},
		{"model-edit", "/model/edit", admin},
		{"model-version", "/model/versions/1", admin},
		{"settings", "/settings", admin},
		{"settings-users", "/settings/users", admin},
		{"settings-webhooks", "/settings/webhooks", admin},
	}
	for _, p := range pages {
		for _, lang := range []string{"ja", "en"} {
			b.Run(p.name+"/"+lang, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.AddCookie(p.cookie)
				req.Header.Set("Accept-Language", lang)
				for b.Loop() {
					w := httptest.NewRecorder()
					hd.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: %d\n%.500s", p.path, w.Code, w.Body.String())
					}
				}
			})
		}
	}
}

// benchLogin logs in through the login form and returns the session
// cookie.
func benchLogin(b *testing.B, hd http.Handler, name string) *http.Cookie {
	b.Helper()
	form := url.Values{"name": {name}, "password": {testPassword}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.1:1234"
	w := httptest.NewRecorder()
	hd.ServeHTTP(w, req)
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	b.Fatalf("login %s: %d, no session cookie\n%s", name, w.Code, w.Body.String())
	return nil
}
