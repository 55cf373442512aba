package segment_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
)

// fakeSink keeps what it is given, per write key, in memory.
type fakeSink struct {
	mu    sync.Mutex
	keys  map[string]bool
	calls []ingestCall
	err   error // returned for every known key when set
}

type ingestCall struct {
	key  string
	msgs []segment.Message
}

func (s *fakeSink) Ingest(_ context.Context, key string, msgs []segment.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.keys[key] {
		return leadflow.Errorf(leadflow.EUNAUTHORIZED, "unknown write key")
	}
	if s.err != nil {
		return s.err
	}
	s.calls = append(s.calls, ingestCall{key, msgs})
	return nil
}

type observation struct {
	kind string
	n    int
	err  error
}

type bundle struct {
	h        http.Handler
	sink     *fakeSink
	now      time.Time
	observed []observation
}

// receivedAt is the fixed clock of the handler tests.
var receivedAt = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{sink: &fakeSink{keys: map[string]bool{"wk_live": true, "wk_body": true}}, now: receivedAt}
	var mu sync.Mutex
	b.h = segment.NewHandler(b.sink, segment.Options{
		Now: func() time.Time { return b.now },
		Observe: func(kind string, n int, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			b.observed = append(b.observed, observation{kind, n, err})
		},
	})
	return b
}

// request describes one call of a scenario.
type request struct {
	method   string // POST when empty
	path     string
	body     string
	auth     string // Authorization header; basic("wk_live") when empty, "-" for none
	encoding string
	gzip     bool
}

func basic(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (b *bundle) do(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	body := []byte(rq.body)
	if rq.gzip {
		body = gzipped(t, body)
		if rq.encoding == "" {
			rq.encoding = "gzip"
		}
	}
	method := rq.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequest(method, rq.path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	switch rq.auth {
	case "":
		r.Header.Set("Authorization", basic("wk_live"))
	case "-":
	default:
		r.Header.Set("Authorization", rq.auth)
	}
	if rq.encoding != "" {
		r.Header.Set("Content-Encoding", rq.encoding)
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	return w
}

// problemBody is the part of a problem+json answer the tests look at.
type problemBody struct {
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Location string `json:"location"`
}

func (b *bundle) only(t *testing.T) (string, []segment.Message) {
	t.Helper()
	if len(b.sink.calls) != 1 {
		t.Fatalf("sink got %d calls, want 1", len(b.sink.calls))
	}
	return b.sink.calls[0].key, b.sink.calls[0].msgs
}

func TestHandler(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", segment.MaxMessageBytes)
	tests := []struct {
		name          string
		req           request
		status        int
		location      string // of a problem
		detail        string // substring of a problem's detail
		check         func(t *testing.T, b *bundle)
		sinkUntouched bool
	}{
		{
			name:   "identify with basic auth",
			req:    request{path: "/v1/identify", body: `{"userId":"u1","traits":{"email":"a@example.co.jp"}}`},
			status: 200,
			check: func(t *testing.T, b *bundle) {
				key, msgs := b.only(t)
				if key != "wk_live" || msgs[0].Type != leadflow.EventIdentify || msgs[0].Traits["email"] != "a@example.co.jp" {
					t.Errorf("got key %q, %+v", key, msgs[0])
				}
			},
		},
		{
			name:   "writeKey in body",
			req:    request{path: "/v1/track", auth: "-", body: `{"writeKey":"wk_body","anonymousId":"a1","event":"Document Downloaded"}`},
			status: 200,
			check: func(t *testing.T, b *bundle) {
				if key, msgs := b.only(t); key != "wk_body" || msgs[0].Event != "Document Downloaded" {
					t.Errorf("got key %q, %+v", key, msgs[0])
				}
			},
		},
		{
			name:   "basic auth wins over the body",
			req:    request{path: "/v1/track", body: `{"writeKey":"wk_body","anonymousId":"a1","event":"e"}`},
			status: 200,
			check: func(t *testing.T, b *bundle) {
				if key, _ := b.only(t); key != "wk_live" {
					t.Errorf("key %q", key)
				}
			},
		},
		{
			name:   "basic auth without colon, any password",
			req:    request{path: "/v1/track", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("wk_live")), body: `{"anonymousId":"a1","event":"e"}`},
			status: 200,
		},
		{
			name:   "basic auth with a password",
			req:    request{path: "/v1/track", auth: "basic " + base64.StdEncoding.EncodeToString([]byte("wk_live:secret")), body: `{"anonymousId":"a1","event":"e"}`},
			status: 200,
		},
		{name: "missing key", req: request{path: "/v1/track", auth: "-", body: `{"anonymousId":"a1","event":"e"}`}, status: 401, detail: "write key", sinkUntouched: true},
		{name: "bearer is not a write key", req: request{path: "/v1/track", auth: "Bearer wk_live", body: `{"anonymousId":"a1","event":"e"}`}, status: 401},
		{name: "unknown key", req: request{path: "/v1/track", auth: basic("nope"), body: `{"anonymousId":"a1","event":"e"}`}, status: 401, detail: "unknown write key"},
		{
			name:   "page",
			req:    request{path: "/v1/page", body: `{"anonymousId":"a1","name":"Pricing","category":"Docs","properties":{"path":"/pricing"}}`},
			status: 200,
			check: func(t *testing.T, b *bundle) {
				if _, msgs := b.only(t); msgs[0].Type != leadflow.EventPage || msgs[0].Name != "Pricing" || msgs[0].Category != "Docs" {
					t.Errorf("%+v", msgs[0])
				}
			},
		},
		{
			name:   "screen is a page",
			req:    request{path: "/v1/screen", body: `{"userId":"u1","name":"Home"}`},
			status: 200,
			check: func(t *testing.T, b *bundle) {
				if _, msgs := b.only(t); msgs[0].Type != leadflow.EventPage || msgs[0].Name != "Home" {
					t.Errorf("%+v", msgs[0])
				}
			},
		},
		{name: "group", req: request{path: "/v1/group", body: `{"userId":"u1","groupId":"acme","traits":{"name":"Acme"}}`}, status: 200},
		{name: "group without groupId", req: request{path: "/v1/group", body: `{"userId":"u1"}`}, status: 400, location: "/groupId"},
		{name: "alias", req: request{path: "/v1/alias", body: `{"previousId":"a1","userId":"u1"}`}, status: 200},
		{name: "alias without previousId", req: request{path: "/v1/alias", body: `{"userId":"u1"}`}, status: 400, location: "/previousId"},
		{name: "alias without userId", req: request{path: "/v1/alias", body: `{"previousId":"a1","anonymousId":"x"}`}, status: 400, location: "/userId"},
		{name: "track without event", req: request{path: "/v1/track", body: `{"userId":"u1"}`}, status: 400, location: "/event"},
		{name: "no identity", req: request{path: "/v1/identify", body: `{"traits":{}}`}, status: 400, location: "/userId", detail: "userId or anonymousId"},
		{name: "empty identity", req: request{path: "/v1/identify", body: `{"userId":"","anonymousId":null}`}, status: 400, location: "/userId"},
		{
			name:   "numeric ids are coerced",
			req:    request{path: "/v1/track", body: `{"userId":12345,"anonymousId":-7.5,"messageId":99,"event":"e"}`},
			status: 200,
			check: func(t *testing.T, b *bundle) {
				_, msgs := b.only(t)
				if m := msgs[0]; m.UserID != "12345" || m.AnonymousID != "-7.5" || m.MessageID != "99" {
					t.Errorf("%+v", m)
				}
			},
		},
		{name: "boolean userId", req: request{path: "/v1/track", body: `{"userId":true,"event":"e"}`}, status: 400, location: "/userId"},
		{name: "object anonymousId", req: request{path: "/v1/track", body: `{"anonymousId":{},"event":"e"}`}, status: 400, location: "/anonymousId"},
		{name: "properties not an object", req: request{path: "/v1/track", body: `{"userId":"u","event":"e","properties":[1]}`}, status: 400, location: "/properties", detail: "properties must be an object"},
		{name: "event not a string", req: request{path: "/v1/track", body: `{"userId":"u","event":5}`}, status: 400, location: "/event"},
		{name: "timestamp not a string", req: request{path: "/v1/track", body: `{"userId":"u","event":"e","timestamp":1714557600}`}, status: 400, location: "/timestamp"},
		{name: "timestamp not a time", req: request{path: "/v1/track", body: `{"userId":"u","event":"e","timestamp":"yesterday"}`}, status: 400, location: "/timestamp"},
		{name: "malformed JSON", req: request{path: "/v1/track", body: `{"userId":"u",`}, status: 400, detail: "malformed JSON"},
		{name: "trailing data", req: request{path: "/v1/track", body: `{"userId":"u","event":"e"} {}`}, status: 400},
		{name: "body not an object", req: request{path: "/v1/track", body: `["userId"]`}, status: 400, detail: "the body must be an object"},
		{name: "empty body", req: request{path: "/v1/track", body: ``}, status: 400},
		{name: "invalid UTF-8", req: request{path: "/v1/track", body: "{\"userId\":\"u\xff\",\"event\":\"e\"}"}, status: 400, detail: "UTF-8"},
		{name: "gzip", req: request{path: "/v1/track", gzip: true, body: `{"userId":"u","event":"e"}`}, status: 200},
		{name: "unsupported encoding", req: request{path: "/v1/track", encoding: "deflate", body: `{"userId":"u","event":"e"}`}, status: 415, sinkUntouched: true},
		{name: "gzip header but plain body", req: request{path: "/v1/track", encoding: "gzip", body: `{"userId":"u","event":"e"}`}, status: 400, detail: "gzip"},
		{name: "truncated gzip", req: request{path: "/v1/batch", encoding: "gzip", body: string(gzipped(t, []byte(`{"batch":[]}`))[:15])}, status: 400, detail: "gzip"},
		{name: "single call over 32 KB", req: request{path: "/v1/track", body: `{"userId":"u","event":"e","properties":{"x":"` + big + `"}}`}, status: 400, detail: "32 KB"},
		{name: "gzipped call over 32 KB", req: request{path: "/v1/track", gzip: true, body: `{"userId":"u","event":"e","properties":{"x":"` + big + `"}}`}, status: 400, detail: "32 KB"},
		{name: "import is batch", req: request{path: "/v1/import", body: `{"batch":[{"type":"track","userId":"u","event":"e"}]}`}, status: 200},
		{name: "analytics.js short path", req: request{path: "/v1/t", body: `{"userId":"u","event":"e"}`}, status: 200},
		{name: "analytics.js batching path", req: request{path: "/v1/b", auth: "-", body: `{"writeKey":"wk_body","batch":[{"type":"page","anonymousId":"a"}]}`}, status: 200},
		{name: "unknown call", req: request{path: "/v1/nope", body: `{}`}, status: 404},
		{name: "GET", req: request{method: http.MethodGet, path: "/v1/track"}, status: 405},
		{
			name:   "identify traits from context.traits",
			req:    request{path: "/v1/identify", body: `{"userId":"u","context":{"traits":{"email":"c@x.jp","title":"部長"}},"traits":{"title":"CTO"}}`},
			status: 200,
			check: func(t *testing.T, b *bundle) {
				_, msgs := b.only(t)
				if tr := msgs[0].Traits; tr["email"] != "c@x.jp" || tr["title"] != "CTO" {
					t.Errorf("traits %v", tr)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := b.do(t, tt.req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 200 {
				if got := w.Body.String(); got != `{"success": true}` {
					t.Errorf("body %q", got)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("content type %q", ct)
				}
			} else {
				checkProblem(t, w, tt.status, tt.location, tt.detail)
			}
			if tt.sinkUntouched && len(b.sink.calls) != 0 {
				t.Errorf("sink called")
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
}

func checkProblem(t *testing.T, w *httptest.ResponseRecorder, status int, location, detail string) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type %q", ct)
	}
	var p problemBody
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", w.Body, err)
	}
	if p.Status != status {
		t.Errorf("problem status %d, want %d", p.Status, status)
	}
	if location != "" && p.Location != location {
		t.Errorf("location %q, want %q (detail %q)", p.Location, location, p.Detail)
	}
	if !strings.Contains(p.Detail, detail) {
		t.Errorf("detail %q, want it to contain %q", p.Detail, detail)
	}
	if status == 401 && w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}
}

func TestHandlerSinkFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sink.err = errors.New("disk full")
	w := b.do(t, request{path: "/v1/track", body: `{"userId":"u","event":"e"}`})
	if w.Code != 500 || strings.Contains(w.Body.String(), "disk full") {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
	if len(b.observed) != 1 || b.observed[0].kind != "track" || b.observed[0].err == nil {
		t.Errorf("observed %+v", b.observed)
	}
}

func TestHandlerObserve(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.do(t, request{path: "/v1/batch", body: `{"batch":[{"type":"track","userId":"u","event":"e"},{"type":"identify","userId":"u"}]}`})
	if len(b.observed) != 1 || b.observed[0] != (observation{"batch", 2, nil}) {
		t.Errorf("observed %+v", b.observed)
	}
}

func TestHandlerPreflight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := b.do(t, request{method: http.MethodOptions, path: "/v1/batch"})
	if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("status %d headers %v", w.Code, w.Header())
	}
}
