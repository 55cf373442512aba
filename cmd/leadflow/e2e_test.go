package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type leadJSON struct {
	ID            int64   `json:"id"`
	Email         string  `json:"email"`
	Name          string  `json:"name"`
	Company       string  `json:"company"`
	Stage         string  `json:"stage"`
	Score         float64 `json:"score"`
	FitScore      float64 `json:"fit_score"`
	BehaviorScore float64 `json:"behavior_score"`
	Owner         string  `json:"owner"`
	CreatedAt     string  `json:"created_at"`
	UpdatedAt     string  `json:"updated_at"`
}

type problemJSON struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func TestServeEndToEnd(t *testing.T) {
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, backend)
			now := time.Now().UTC().Format(time.RFC3339)

			// Ingest like a Segment client: a visitor, then identify, a hand-raiser.
			status, body := s.batch(t, `{"batch":[
				{"type":"page","anonymousId":"anon-42","name":"Pricing","properties":{"path":"/pricing"},"timestamp":"`+now+`",
				 "context":{"campaign":{"source":"google","medium":"cpc","name":"spring"}}},
				{"type":"identify","anonymousId":"anon-42","userId":"u-42","traits":{"email":"Suzuki@Example.co.jp","name":"鈴木 一郎","company":"鈴木工業","title":"部長","industry":"manufacturing","employees":300}},
				{"type":"track","userId":"u-42","event":"Demo Requested","messageId":"fixed-1"}
			]}`)
			if status != 200 || strings.ReplaceAll(string(body), " ", "") != `{"success":true}` {
				t.Fatalf("batch: %d %s", status, body)
			}
			// A retried message is not counted twice.
			if status, _ := s.batch(t, `{"batch":[{"type":"track","userId":"u-42","event":"Demo Requested","messageId":"fixed-1"}]}`); status != 200 {
				t.Fatalf("retry: %d", status)
			}

			status, body = s.do(t, "GET", "/api/v1/leads?email=suzuki@example.co.jp", "", nil)
			list := decode[struct {
				Items      []leadJSON `json:"items"`
				NextCursor *string    `json:"next_cursor"`
			}](t, body)
			if status != 200 || len(list.Items) != 1 || list.NextCursor != nil {
				t.Fatalf("list: %d %s", status, body)
			}
			l := list.Items[0]
			if l.Stage != "sql" || l.Name != "鈴木 一郎" || l.FitScore != 45 || l.BehaviorScore != 10 || l.Score != 55 || l.CreatedAt == "" {
				t.Fatalf("lead: %+v", l)
			}
			status, body = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/timeline", l.ID), "", nil)
			tl := decode[struct{ Items []map[string]any }](t, body)
			if status != 200 || len(tl.Items) != 3 {
				t.Fatalf("timeline: %d %s", status, body)
			}
			status, body = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/score", l.ID), "", nil)
			if status != 200 || !strings.Contains(string(body), `"rule":"pricing-page"`) || !strings.Contains(string(body), `"thresholds"`) {
				t.Fatalf("score: %d %s", status, body)
			}
			status, body = s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d/transitions", l.ID), "", nil)
			if status != 200 || !strings.Contains(string(body), `"to":"sql"`) {
				t.Fatalf("transitions: %d %s", status, body)
			}

			// BANT by API re-qualifies: complete BANT within 30 days is an HQL.
			status, body = s.do(t, "PUT", fmt.Sprintf("/api/v1/leads/%d/bant", l.ID), "application/json",
				strings.NewReader(`{"budget":true,"authority":true,"need":true,"timeline_days":14}`))
			if status != 200 || decode[leadJSON](t, body).Stage != "hql" {
				t.Fatalf("bant: %d %s", status, body)
			}

			// Create and update by API.
			status, body = s.do(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(`{"email":"new@lead.jp","company":"New KK","employees":120}`))
			created := decode[leadJSON](t, body)
			if status != 201 || created.ID == 0 || created.FitScore != 15 {
				t.Fatalf("create: %d %s", status, body)
			}
			status, body = s.do(t, "POST", "/api/v1/leads", "application/json", strings.NewReader(`{"email":"NEW@lead.jp"}`))
			if status != 409 {
				t.Fatalf("duplicate create: %d %s", status, body)
			}
			status, body = s.do(t, "PATCH", fmt.Sprintf("/api/v1/leads/%d", created.ID), "application/json", strings.NewReader(`{"title":"VP Sales"}`))
			if status != 200 || decode[leadJSON](t, body).FitScore != 35 {
				t.Fatalf("update: %d %s", status, body)
			}
			// Manual recycle with a reason.
			status, body = s.do(t, "POST", fmt.Sprintf("/api/v1/leads/%d/stage", created.ID), "application/json", strings.NewReader(`{"stage":"recycled","reason":"no budget this year"}`))
			if status != 200 || decode[leadJSON](t, body).Stage != "recycled" {
				t.Fatalf("recycle: %d %s", status, body)
			}

			// CLI on the same database while the server runs.
			out := s.cli(t, "lead", "explain", "suzuki@example.co.jp")
			if !strings.Contains(out, "pricing-page") {
				t.Fatalf("explain: %s", out)
			}

			// Erase removes personal data; an audit record stays.
			if status, body := s.do(t, "DELETE", fmt.Sprintf("/api/v1/leads/%d", created.ID), "", nil); status != 204 {
				t.Fatalf("erase: %d %s", status, body)
			}
			if status, _ := s.do(t, "GET", fmt.Sprintf("/api/v1/leads/%d", created.ID), "", nil); status != 404 {
				t.Fatalf("erased lead: %d", status)
			}

			// Health, metrics, OpenAPI.
			resp, err := http.Get(s.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			var mb bytes.Buffer
			_, _ = mb.ReadFrom(resp.Body)
			resp.Body.Close()
			for _, want := range []string{"leadflow_ingest_messages_total", "leadflow_ingest_request_duration_seconds", "leadflow_jobs_queue_depth"} {
				if !strings.Contains(mb.String(), want) {
					t.Errorf("metrics lack %s", want)
				}
			}
			resp, err = http.Get(s.URL + "/api/v1/openapi.json")
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				OpenAPI string         `json:"openapi"`
				Paths   map[string]any `json:"paths"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
			if doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/leads/{id}/score"] == nil {
				t.Fatalf("openapi: %s %d paths", doc.OpenAPI, len(doc.Paths))
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	s := startServer(t, "sqlite")
	post := func(path, auth, body string) (int, problemJSON, string) {
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
		if auth != "" {
			req.SetBasicAuth(auth, "")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p problemJSON
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p, resp.Header.Get("Content-Type")
	}
	cases := []struct {
		name, path, key, body string
		status                int
		detail                string
	}{
		{"malformed json", "/v1/track", s.WriteKey, `{"userId":`, 400, ""},
		{"wrong type", "/v1/track", s.WriteKey, `{"userId":"u","event":"x","properties":[1]}`, 400, "properties"},
		{"no ids", "/v1/track", s.WriteKey, `{"event":"x"}`, 400, "userId"},
		{"unknown write key", "/v1/track", "lfw_nope", `{"userId":"u","event":"x"}`, 401, ""},
		{"no write key", "/v1/track", "", `{"userId":"u","event":"x"}`, 401, ""},
		{"bad utf-8", "/v1/track", s.WriteKey, "{\"userId\":\"\xff\",\"event\":\"x\"}", 400, ""},
		{"oversize message", "/v1/track", s.WriteKey, `{"userId":"u","event":"x","properties":{"p":"` + strings.Repeat("a", 40<<10) + `"}}`, 400, ""},
	}
	for _, c := range cases {
		status, p, ct := post(c.path, c.key, c.body)
		if status != c.status || !strings.HasPrefix(ct, "application/problem+json") || p.Detail == "" {
			t.Errorf("%s: %d %s %+v", c.name, status, ct, p)
		}
		if c.detail != "" && !strings.Contains(p.Detail+fmt.Sprint(p.Errors), c.detail) {
			t.Errorf("%s: detail %q does not say %q", c.name, p.Detail, c.detail)
		}
	}
	api := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/api/v1/leads/999999", "", 404},
		{"GET", "/api/v1/leads?score_min=abc", "", 400},
		{"GET", "/api/v1/leads?stage=nope", "", 400},
		{"GET", "/api/v1/leads?sort=name", "", 400},
		{"GET", "/api/v1/leads?cursor=%25%25", "", 400},
		{"GET", "/api/v1/leads/abc", "", 422},
		{"POST", "/api/v1/leads", `{"email":`, 400},
		{"POST", "/api/v1/leads", `{"company":"no email"}`, 400},
		{"POST", "/api/v1/leads", `{"email":"x@y.jp","employees":"many"}`, 422},
		{"POST", "/api/v1/model/validate", "name: x\nfit: [", 400},
		{"GET", "/api/v1/nope", "", 404},
	}
	for _, c := range api {
		var body *strings.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		} else {
			body = strings.NewReader("")
		}
		ct := "application/json"
		if strings.Contains(c.path, "model") {
			ct = "application/yaml"
		}
		status, b := s.do(t, c.method, c.path, ct, body)
		if status != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, status, b, c.status)
			continue
		}
		p := decode[problemJSON](t, b)
		if p.Status != c.status || p.Detail == "" {
			t.Errorf("%s %s: not a problem: %s", c.method, c.path, b)
		}
	}
	// No API key, a wrong API key.
	resp, err := http.Get(s.URL + "/api/v1/leads")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("no key: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestModelCommands(t *testing.T) {
	s := startServer(t, "sqlite")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("name: bad\nfit:\n  - id: x\n    when: lead.employees >= \"many\"\n    points: 5\nstages:\n  mql: score >= 50\n"), 0o644)
	_, errOut, err := s.cliErr("model", "apply", bad)
	if err == nil || !strings.Contains(err.Error()+errOut, "") {
		t.Fatal("invalid model applied")
	}
	if msg := message(err); !strings.Contains(msg, "bad.yaml:4") {
		t.Fatalf("error lacks line: %s", msg)
	}
	if out := s.cli(t, "model", "history"); strings.Count(out, "\n") != 1 {
		t.Fatalf("history after refused apply: %s", out)
	}
	good := filepath.Join(dir, "good.yaml")
	_ = os.WriteFile(good, []byte("name: tuned\nfit:\n  - id: big\n    when: lead.employees >= 1000\n    points: 30\nstages:\n  mql: score >= 30\n"), 0o644)
	if out := s.cli(t, "model", "validate", good); !strings.Contains(out, "valid") {
		t.Fatalf("validate: %s", out)
	}
	if out := s.cli(t, "model", "diff", good); !strings.Contains(out, "fit/big") {
		t.Fatalf("diff file: %s", out)
	}
	out := s.cli(t, "model", "apply", good)
	if !strings.Contains(out, "version 2") || !strings.Contains(out, "rescored") {
		t.Fatalf("apply: %s", out)
	}
	if out := s.cli(t, "model", "show"); !strings.Contains(out, "name: tuned") {
		t.Fatalf("show: %s", out)
	}
	if out := s.cli(t, "model", "diff"); !strings.Contains(out, "big") {
		t.Fatalf("diff: %s", out)
	}
	status, body := s.do(t, "GET", "/api/v1/model/rescores/latest", "", nil)
	if status != 200 || !strings.Contains(string(body), `"status":"done"`) {
		t.Fatalf("rescore status: %d %s", status, body)
	}
}

func TestImport(t *testing.T) {
	s := startServer(t, "sqlite")
	csv := "メールアドレス,会社名,氏名,役職,従業員数,業種\r\n" +
		"taro@maker.co.jp,山田製作所,山田 太郎,部長,\"1,200\",manufacturing\r\n" +
		"broken-email,壊れた会社,,,10,\r\n" +
		"hanako@shop.jp,花子商店,佐藤 花子,担当,５０名,retail\r\n"
	sjis, err := japanese.ShiftJIS.NewEncoder().String(csv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "展示会.csv")
	_ = os.WriteFile(path, []byte(sjis), 0o644)
	out, errOut, err := s.cliErr("import", "leads", path)
	if err == nil || !strings.Contains(out, "2 created") || !strings.Contains(out, "shift_jis") || !strings.Contains(errOut, ":3") {
		t.Fatalf("import: %v\n%s\n%s", err, out, errOut)
	}
	status, body := s.do(t, "GET", "/api/v1/leads?email=taro@maker.co.jp", "", nil)
	l := decode[struct{ Items []leadJSON }](t, body)
	if status != 200 || len(l.Items) != 1 || l.Items[0].Company != "山田製作所" || l.Items[0].FitScore != 45 {
		t.Fatalf("imported lead: %s", body)
	}
	// The same through the API, upserting by email.
	status, body = s.do(t, "POST", "/api/v1/imports/leads", "text/csv", strings.NewReader("Email,Company\nTARO@maker.co.jp,Yamada Works\nnew@x.jp,X\n"))
	res := decode[struct {
		Created, Updated int
	}](t, body)
	if status != 200 || res.Created != 1 || res.Updated != 1 {
		t.Fatalf("api import: %d %s", status, body)
	}
	// A malformed file imports nothing.
	status, body = s.do(t, "POST", "/api/v1/imports/leads", "text/csv", strings.NewReader("Email,Company\na@b.jp,\"unterminated\n"))
	if status != 400 {
		t.Fatalf("malformed csv: %d %s", status, body)
	}
	if _, body := s.do(t, "GET", "/api/v1/leads?email=a@b.jp", "", nil); !strings.Contains(string(body), `"items":[]`) {
		t.Fatalf("half import: %s", body)
	}
}

func TestStartupErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	env := map[string]string{"LEADFLOW_DB": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, nil, &out, &errOut)
	if err == nil || !strings.Contains(message(err), "unreachable") {
		t.Fatalf("unreachable database: %v", err)
	}
	if err := run(context.Background(), []string{"nope"}, func(string) string { return "" }, nil, &out, &errOut); exitCode(err) != 2 {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run(context.Background(), []string{"apikey", "create"}, func(string) string { return "" }, nil, &out, &errOut); exitCode(err) != 2 {
		t.Fatalf("missing --name: %v", err)
	}
}
