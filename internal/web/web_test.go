package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

const testPassword = "correct-horse-battery"

// bundle is a UI on a fresh database with one user per role and a lead.
type bundle struct {
	db   *store.DB
	flow *flow.Flow
	h    *handler
	srv  *httptest.Server
	mu   sync.Mutex
	now  time.Time
	lead int64
}

func (b *bundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

func (b *bundle) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

func setup(t *testing.T, db *store.DB) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{db: db, now: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)}
	db.Now = b.clock
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b.flow = flow.New(db, q, nil)
	if err := b.flow.EnsureModel(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range auth.Roles {
		u := &store.User{Name: string(r) + "1", DisplayName: string(r) + " user", Role: string(r)}
		if err := CreateUser(ctx, db, u, testPassword, "test"); err != nil {
			t.Fatal(err)
		}
	}
	email := "taro@example.co.jp"
	l, err := b.flow.CreateLead(ctx, leadflow.LeadPatch{Email: &email, Name: ptr("山田 太郎"), Company: ptr("山田製作所"),
		Industry: ptr("manufacturing"), Employees: ptr(250), Title: ptr("製造部長")}, "test")
	if err != nil {
		t.Fatal(err)
	}
	b.lead = l.ID
	if _, err := b.flow.Reassign(ctx, l.ID, "sales1", "test"); err != nil {
		t.Fatal(err)
	}
	var hd http.Handler
	b.h, hd, err = newHandler(Deps{Flow: b.flow, DB: db, Now: b.clock, Version: "test", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	b.srv = httptest.NewServer(hd)
	t.Cleanup(b.srv.Close)
	return b
}

// client is a browser: a cookie jar that does not follow redirects.
func (b *bundle) client(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login returns a client logged in as the user called name.
func (b *bundle) login(t *testing.T, name string) *http.Client {
	t.Helper()
	c := b.client(t)
	resp := b.post(t, c, "/login", url.Values{"name": {name}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", name, resp.StatusCode)
	}
	return c
}

type response struct {
	*http.Response
	Body string
}

func (b *bundle) do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp, string(body)}
}

func (b *bundle) get(t *testing.T, c *http.Client, path string, hdr ...string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(t, c, req)
}

func (b *bundle) post(t *testing.T, c *http.Client, path string, form url.Values, hdr ...string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(t, c, req)
}

// TestPages renders every page in both languages and checks a phrase of
// each. Speed is measured by BenchmarkPages, never asserted here.
func TestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		c := b.login(t, "admin1")
		id := strconv.FormatInt(b.lead, 10)
		for _, tc := range []struct {
			path   string
			ja, en string
		}{
			{"/", "ファネル", "Funnel"},
			{"/queue", "対応待ち", "Nothing waiting"},
			{"/leads", "山田 太郎", "Export CSV"},
			{"/leads?stage=lead&industry=manufacturing&smin=10&updated=7&sort=-score", "山田製作所", "Filter"},
			{"/leads/" + id, "スコアの内訳", "Why this score"},
			{"/model", "属性ルール", "Fit rules"},
			{"/model/edit", "検証", "Validate"},
			{"/model/versions/1", "前バージョンからの変更", "Changes from the previous version"},
			{"/settings", "差し戻し理由", "Rejection reasons"},
			{"/settings/users", "ユーザーを追加", "New user"},
			{"/settings/webhooks", "Webhook エンドポイントはまだありません", "No webhook endpoint"},
		} {
			for lang, want := range map[string]string{"ja": tc.ja, "en": tc.en} {
				r := b.get(t, c, tc.path, "Accept-Language", lang)
				if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, want) {
					t.Errorf("%s [%s]: %d, want %q in\n%.2000s", tc.path, lang, r.StatusCode, want, r.Body)
				}
			}
		}
		// The language chosen in the UI wins over Accept-Language.
		b.post(t, c, "/lang", url.Values{"lang": {"en"}, "next": {"/leads"}})
		if r := b.get(t, c, "/leads", "Accept-Language", "ja"); !strings.Contains(r.Body, `lang="en"`) {
			t.Error("the language cookie was not honoured")
		}
		if r := b.get(t, c, "/leads?smin=abc"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("bad filter: %d", r.StatusCode)
		}
		if r := b.get(t, c, "/leads/999999"); r.StatusCode != http.StatusNotFound {
			t.Errorf("unknown lead: %d", r.StatusCode)
		}
		if r := b.get(t, c, "/nope"); r.StatusCode != http.StatusNotFound {
			t.Errorf("unknown page: %d", r.StatusCode)
		}
		r := b.get(t, c, "/leads/export.csv?q=yamada")
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("export: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		// A whole address is looked up by the email index, case-insensitively;
		// part of one is still a substring search.
		for _, q := range []string{"Taro@Example.co.jp", "taro@exa"} {
			r = b.get(t, c, "/leads/export.csv?q="+url.QueryEscape(q))
			if lines := strings.Count(r.Body, "\n"); lines != 2 || !strings.Contains(r.Body, "taro@example.co.jp") {
				t.Errorf("search %q: %d lines\n%s", q, lines, r.Body)
			}
		}
		r = b.get(t, c, "/leads/export.csv?industry=manufacturing")
		if lines := strings.Count(r.Body, "\n"); lines != 2 || !strings.Contains(r.Body, "taro@example.co.jp") {
			t.Errorf("export of the view: %d lines\n%s", lines, r.Body)
		}
	})
}

func TestLeadActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		if _, err := b.flow.MoveLead(ctx, b.lead, leadflow.StageMQL, "test", "test"); err != nil {
			t.Fatal(err)
		}
		c := b.login(t, "sales1")
		base := "/leads/" + strconv.FormatInt(b.lead, 10)
		stage := func() leadflow.Stage {
			l, err := db.FindLead(ctx, b.lead)
			if err != nil {
				t.Fatal(err)
			}
			return l.Stage
		}
		if r := b.post(t, c, base+"/accept", url.Values{"note": {"looks good"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept: %d %s", r.StatusCode, r.Body)
		}
		if s := stage(); s != leadflow.StageSAL {
			t.Fatalf("after accept: %s", s)
		}
		if r := b.get(t, c, base+"?done=accept"); !strings.Contains(r.Body, "受け入れました") && !strings.Contains(r.Body, "Accepted") {
			t.Errorf("no confirmation after accept")
		}
		// A second accept is a conflict shown on the page, in its language.
		if r := b.post(t, c, base+"/accept", nil); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "受け入れできるのは MQL のリードだけです。このリードは現在「SAL」です。") {
			t.Errorf("second accept: %d", r.StatusCode)
		}
		if r := b.post(t, c, base+"/touch", url.Values{"kind": {"call"}, "outcome": {"留守電"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("touch: %d", r.StatusCode)
		}
		if r := b.post(t, c, base+"/touch", url.Values{"kind": {"fax"}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("bad touch: %d", r.StatusCode)
		}
		if ts, _ := db.TouchesOfLead(ctx, b.lead); len(ts) != 1 || ts[0].Actor != "user:sales1" {
			t.Errorf("touches %+v", ts)
		}
		if r := b.post(t, c, base+"/bant", url.Values{"budget": {"on"}, "need": {"on"}, "timeline": {"2026-06-20"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("bant: %d %s", r.StatusCode, r.Body)
		}
		l, _ := db.FindLead(ctx, b.lead)
		if !l.BANT.Budget || l.BANT.Authority || !l.BANT.Need || l.BANT.Timeline == nil ||
			l.BANT.Timeline.In(b.h.deps.Location).Format(time.DateOnly) != "2026-06-20" {
			t.Errorf("BANT %+v", l.BANT)
		}
		if r := b.post(t, c, base+"/reject", url.Values{"reason": {"no-such-reason"}}); r.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown reason: %d", r.StatusCode)
		}
		if r := b.post(t, c, base+"/reject", url.Values{"reason": {"no-budget"}, "note": {"来期"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("reject: %d", r.StatusCode)
		}
		if s := stage(); s != leadflow.StageRecycled {
			t.Fatalf("after reject: %s", s)
		}
		page := b.get(t, c, base)
		if !strings.Contains(page.Body, "no-budget: 来期") {
			t.Error("the lead page does not show the rejection in the history")
		}
		if r := b.post(t, c, base+"/qualify", nil); r.StatusCode != http.StatusSeeOther || stage() != leadflow.StageSQL {
			t.Fatalf("qualify: %d %s", r.StatusCode, stage())
		}
		if r := b.post(t, c, base+"/disqualify", url.Values{"reason": {"competitor"}}); r.StatusCode != http.StatusSeeOther || stage() != leadflow.StageDisqualified {
			t.Fatalf("disqualify: %d %s", r.StatusCode, stage())
		}
		m := b.login(t, "manager1")
		if r := b.post(t, m, base+"/reassign", url.Values{"owner": {"manager1"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("reassign: %d %s", r.StatusCode, r.Body)
		}
		if l, _ := db.FindLead(ctx, b.lead); l.Owner != "manager1" {
			t.Errorf("owner %s", l.Owner)
		}
	})
}

func TestQueueAndDashboard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		var ids []int64
		for i, s := range []leadflow.Stage{leadflow.StageMQL, leadflow.StageHQL, leadflow.StageSQL} {
			email := "q" + strconv.Itoa(i) + "@example.com"
			l, err := b.flow.CreateLead(ctx, leadflow.LeadPatch{Email: &email, Name: ptr("Q" + strconv.Itoa(i))}, "test")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.flow.MoveLead(ctx, l.ID, s, "", "test"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.flow.Reassign(ctx, l.ID, "sales1", "test"); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, l.ID)
		}
		items, err := db.Queue(ctx, "sales1")
		if err != nil {
			t.Fatal(err)
		}
		// No SLA policy is configured: the order is stage, then score.
		if len(items) != 3 || items[0].Lead.ID != ids[1] || items[1].Lead.ID != ids[2] || items[2].Lead.ID != ids[0] {
			t.Fatalf("queue order %+v", items)
		}
		if items[0].Why == nil || items[0].Why.To != leadflow.StageHQL {
			t.Errorf("why %+v", items[0].Why)
		}
		c := b.login(t, "sales1")
		r := b.get(t, c, "/queue", "Accept-Language", "ja")
		if i0, i1 := strings.Index(r.Body, ">Q1<"), strings.Index(r.Body, ">Q0<"); i0 < 0 || i1 < 0 || i0 > i1 {
			t.Errorf("queue page order wrong")
		}
		counts, err := db.Funnel(ctx, b.clock().AddDate(0, 0, -1), b.clock().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// 4 leads; 3 reached mql (hql and sql by a manual jump count too).
		want := []int64{4, 3, 2, 2, 1, 0, 0}
		for i := range want {
			if counts[i] != want[i] {
				t.Fatalf("funnel %v, want %v", counts, want)
			}
		}
		trend, err := db.StageTrend(ctx, b.clock().AddDate(0, 0, -7), b.clock().Add(time.Second), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		last := trend[len(trend)-1]
		if len(trend) != 8 || last.MQL != 1 || last.SQL != 1 {
			t.Errorf("trend %+v", trend)
		}
		r = b.get(t, c, "/?days=30", "Accept-Language", "en")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `data-chart=`) || !strings.Contains(r.Body, "75.0%") {
			i := strings.Index(r.Body, "kpis")
			t.Errorf("dashboard: %d\n%.3000s", r.StatusCode, r.Body[max(i, 0):])
		}
	})
}

func TestModelEditor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		c := b.login(t, "marketing1")
		_, mv, err := b.flow.ActiveModel(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bad := strings.Replace(mv.Source, "points: 10", "points: ten", 1)
		r := b.post(t, c, "/model/validate", url.Values{"source": {bad}}, "Accept-Language", "en")
		if r.StatusCode != http.StatusUnprocessableEntity || !regexp.MustCompile(`model\.yaml:\d+:\d+`).MatchString(r.Body) ||
			!strings.Contains(r.Body, `class="ln bad"`) {
			t.Fatalf("invalid model: %d\n%.3000s", r.StatusCode, r.Body)
		}
		good := strings.Replace(mv.Source, "points: 10", "points: 12", 1)
		r = b.post(t, c, "/model/validate", url.Values{"source": {good}}, "Accept-Language", "en")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "The model is valid") || !strings.Contains(r.Body, "d-changed") {
			t.Fatalf("valid model: %d\n%.3000s", r.StatusCode, r.Body)
		}
		if r := b.post(t, c, "/model/apply", url.Values{"source": {good}}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("apply without confirmation: %d", r.StatusCode)
		}
		if r := b.post(t, c, "/model/apply", url.Values{"source": {bad}, "confirm": {"1"}}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("apply of a broken model: %d", r.StatusCode)
		}
		if r := b.post(t, c, "/model/apply", url.Values{"source": {good}, "confirm": {"1"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("apply: %d %s", r.StatusCode, r.Body)
		}
		_, now, _ := b.flow.ActiveModel(ctx)
		if now.Version != 2 || now.CreatedBy != "user:marketing1" {
			t.Fatalf("active model v%d by %s", now.Version, now.CreatedBy)
		}
		if r := b.get(t, c, "/model/versions/2", "Accept-Language", "en"); !strings.Contains(r.Body, "points: 12") {
			t.Error("version page lacks the source")
		}
	})
}

func TestStaticAssets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		c := b.client(t)
		u := must(b.h.assets.url("vendor/htmx.min.js"))
		r := b.get(t, c, u)
		if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") || len(r.Body) < 10000 {
			t.Fatalf("%s: %d %v", u, r.StatusCode, r.Header)
		}
		if r := b.get(t, c, "/static/000000000000/app.css"); r.StatusCode != http.StatusFound || r.Header.Get("Location") != must(b.h.assets.url("app.css")) {
			t.Errorf("stale hash: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		if r := b.get(t, c, "/static/x/nope.js"); r.StatusCode != http.StatusNotFound {
			t.Errorf("unknown asset: %d", r.StatusCode)
		}
		page := b.get(t, c, "/login")
		if !strings.Contains(page.Body, u) || page.Header.Get("Content-Security-Policy") == "" {
			t.Error("login page does not reference the hashed htmx URL or lacks a CSP")
		}
	})
}

func TestBootstrap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		name, pw, err := Bootstrap(ctx, db)
		if err != nil || name != "admin" || len(pw) != 20 {
			t.Fatalf("Bootstrap = %q %q %v", name, pw, err)
		}
		hash, err := db.PasswordHash(ctx, "admin")
		if err != nil || !auth.VerifyPassword(hash, pw) {
			t.Fatalf("admin password does not verify: %v", err)
		}
		if name, _, err := Bootstrap(ctx, db); err != nil || name != "" {
			t.Fatalf("second Bootstrap = %q %v", name, err)
		}
		if err := SetPassword(ctx, db, "admin", "short", "test"); leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Errorf("short password: %v", err)
		}
		if err := SetPassword(ctx, db, "ghost", testPassword, "test"); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Errorf("unknown user: %v", err)
		}
	})
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
