package segment_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/segment"
)

// TestHandlerGzipBomb sends 16 MB of zeros squeezed into 16 KB; the
// handler must refuse it after reading its limit, not inflate it.
func TestHandlerGzipBomb(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for range 16 { // 32 times the batch limit; more only slows -race
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	for _, path := range []string{"/v1/batch", "/v1/track"} {
		b := setup(t)
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(buf.Bytes()))
		r.Header.Set("Authorization", basic("wk_live"))
		r.Header.Set("Content-Encoding", "gzip")
		w := httptest.NewRecorder()
		b.h.ServeHTTP(w, r)
		checkProblem(t, w, 400, "", "limit")
	}
}

// TestHandlerGzipMembers sends many empty gzip members: no output, endless
// input. The compressed size is limited too.
func TestHandlerGzipMembers(t *testing.T) {
	t.Parallel()
	empty := gzipped(t, nil)
	body := bytes.Repeat(empty, segment.MaxBatchBytes/len(empty)+2)
	b := setup(t)
	r := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body))
	r.Header.Set("Authorization", basic("wk_live"))
	r.Header.Set("Content-Encoding", "gzip")
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	checkProblem(t, w, 400, "", "limit")
}

func batchOf(n int, msg string) string {
	return `{"batch":[` + strings.TrimSuffix(strings.Repeat(msg+",", n), ",") + `]}`
}

func TestHandlerBatch(t *testing.T) {
	t.Parallel()
	track := `{"type":"track","userId":"u","event":"e"}`
	pad := strings.Repeat("y", 30<<10)
	tests := []struct {
		name     string
		body     string
		gzip     bool
		status   int
		location string
		detail   string
		check    func(t *testing.T, msgs []segment.Message)
	}{
		{name: "2500 messages", body: batchOf(2500, track), status: 200},
		{name: "2501 messages", body: batchOf(2501, track), status: 400, location: "/batch", detail: "2500"},
		{
			name:   "over 500 KB",
			body:   batchOf(17, `{"type":"track","userId":"u","event":"e","properties":{"p":"`+pad+`"}}`),
			status: 400, detail: "500 KB",
		},
		{
			name:   "over 500 KB once inflated",
			body:   batchOf(17, `{"type":"track","userId":"u","event":"e","properties":{"p":"`+pad+`"}}`),
			gzip:   true,
			status: 400, detail: "500 KB",
		},
		{
			name:   "one message over 32 KB",
			body:   `{"batch":[` + track + `,{"type":"track","userId":"u","event":"e","properties":{"p":"` + pad + pad + `"}}]}`,
			status: 400, location: "/batch/1", detail: "message 1",
		},
		{name: "invalid message at index 3", body: `{"batch":[` + track + `,` + track + `,` + track + `,{"type":"track","event":"e"}]}`, status: 400, location: "/batch/3/userId"},
		{name: "unknown type", body: `{"batch":[{"type":"launch","userId":"u"}]}`, status: 400, location: "/batch/0/type"},
		{name: "missing type", body: `{"batch":[{"userId":"u"}]}`, status: 400, location: "/batch/0/type"},
		{name: "message not an object", body: `{"batch":[` + track + `,"x"]}`, status: 400, location: "/batch/1"},
		{name: "wrong type deep in a message", body: `{"batch":[{"type":"identify","userId":"u","traits":"x"}]}`, status: 400, location: "/batch/0/traits"},
		{name: "batch not an array", body: `{"batch":{}}`, status: 400, location: "/batch"},
		{name: "no batch", body: `{"sentAt":"2024-05-01T10:00:00Z"}`, status: 400, location: "/batch"},
		{name: "bad batch sentAt", body: `{"sentAt":"soon","batch":[` + track + `]}`, status: 400, location: "/batch/0/sentAt"},
		{
			name:   "empty batch still checks the key",
			body:   `{"batch":[]}`,
			status: 200,
			check: func(t *testing.T, msgs []segment.Message) {
				if len(msgs) != 0 {
					t.Errorf("%d messages", len(msgs))
				}
			},
		},
		{
			name: "batch context, integrations and sentAt merge, messages win",
			body: `{"sentAt":"2024-05-01T10:10:00Z",
				"context":{"library":{"name":"analytics-node"},"ip":"203.0.113.9","locale":"ja-JP"},
				"integrations":{"All":false},
				"batch":[
				  {"type":"track","userId":"u","event":"e","timestamp":"2024-05-01T10:09:00Z","context":{"ip":"198.51.100.1"},"integrations":{"All":true}},
				  {"type":"page","anonymousId":"a","originalTimestamp":"2024-05-01T10:08:00Z","sentAt":"2024-05-01T10:08:30Z"}
				]}`,
			status: 200,
			check: func(t *testing.T, msgs []segment.Message) {
				m0, m1 := msgs[0], msgs[1]
				if m0.Context["ip"] != "198.51.100.1" || m0.Context["locale"] != "ja-JP" || m0.Integrations["All"] != true {
					t.Errorf("message 0: context %v integrations %v", m0.Context, m0.Integrations)
				}
				if m1.Context["ip"] != "203.0.113.9" || m1.Integrations["All"] != false {
					t.Errorf("message 1: context %v integrations %v", m1.Context, m1.Integrations)
				}
				// Batch sentAt: the client is 10 minutes ahead.
				if want := receivedAt.Add(-time.Minute); !m0.Timestamp.Equal(want) {
					t.Errorf("message 0 timestamp %v, want %v", m0.Timestamp, want)
				}
				// Own sentAt wins.
				if want := receivedAt.Add(-30 * time.Second); !m1.Timestamp.Equal(want) {
					t.Errorf("message 1 timestamp %v, want %v", m1.Timestamp, want)
				}
				// Merged values are not shared between messages.
				m1.Context["library"].(map[string]any)["name"] = "changed"
				if m0.Context["library"].(map[string]any)["name"] != "analytics-node" {
					t.Errorf("batch context shared between messages")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			w := b.do(t, request{path: "/v1/batch", body: tt.body, gzip: tt.gzip})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				checkProblem(t, w, tt.status, tt.location, tt.detail)
				if len(b.sink.calls) != 0 {
					t.Errorf("a refused batch reached the sink")
				}
				return
			}
			_, msgs := b.only(t)
			if tt.check != nil {
				tt.check(t, msgs)
			}
		})
	}
}

// TestHandlerRetryDedup checks that a retried body without messageId gets
// the same id even though a library stamps a new sentAt on each attempt.
func TestHandlerRetryDedup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	send := func(sentAt string) string {
		t.Helper()
		body := fmt.Sprintf(`{"sentAt":%q,"batch":[{"type":"track","userId":"u","event":"e","timestamp":"2024-05-01T09:00:00Z","properties":{"b":1,"a":[1,2]}}]}`, sentAt)
		if w := b.do(t, request{path: "/v1/batch", body: body}); w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
		calls := b.sink.calls
		return calls[len(calls)-1].msgs[0].MessageID
	}
	first, retry := send("2024-05-01T09:00:01Z"), send("2024-05-01T09:00:09Z")
	if first != retry || !strings.HasPrefix(first, "lf-") || len(first) != 35 {
		t.Errorf("ids %q and %q", first, retry)
	}
	b.do(t, request{path: "/v1/batch", body: `{"batch":[{"type":"track","userId":"u","event":"other","timestamp":"2024-05-01T09:00:00Z"}]}`})
	if other := b.sink.calls[2].msgs[0].MessageID; other == first {
		t.Errorf("different content, same id %q", other)
	}
}
