package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/leadflow/leadflow/internal/segment"
)

// realisticBatch builds a batch of n track and page events of about 650
// bytes each, shaped like what analytics-node and analytics.js send.
func realisticBatch(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	buf.WriteString(`{"sentAt":"2024-05-01T10:00:05.123Z","batch":[`)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		if i%2 == 0 {
			fmt.Fprintf(&buf, `{"type":"track","messageId":"node-%08d-5f0c2a1e-7b7d-4c1e-9a55-0e4d2f6b%04d","anonymousId":"9c1d6f1e-2b2e-4f7a-a1d3-%012d","userId":"crm-%06d","event":"Document Downloaded","properties":{"document":"2024年版 リード管理ホワイトペーパー","category":"whitepaper","format":"pdf","size_kb":2048},"context":{"library":{"name":"analytics-node-next","version":"2.1.0"},"ip":"203.0.113.%d","locale":"ja-JP","campaign":{"source":"google","medium":"cpc","name":"lead-mgmt-2024"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15"},"integrations":{},"timestamp":"2024-05-01T10:00:0%d.%03dZ","_metadata":{"jsRuntime":"node"}}`,
				i, i%10000, i, i, i%250, i%5, i%1000)
		} else {
			fmt.Fprintf(&buf, `{"type":"page","messageId":"ajs-next-%08d-8d3f41c9b2a74e7f9c0d%04d","anonymousId":"9c1d6f1e-2b2e-4f7a-a1d3-%012d","name":"Pricing","properties":{"path":"/pricing","url":"https://www.example.co.jp/pricing?utm_source=newsletter&utm_medium=email","title":"料金プラン | Example","referrer":"https://www.google.com/"},"context":{"page":{"path":"/pricing","referrer":"https://www.google.com/","search":"?utm_source=newsletter&utm_medium=email"},"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)","locale":"ja"},"originalTimestamp":"2024-05-01T10:00:0%d.%03dZ"}`,
				i, i%10000, i, i%5, i%1000)
		}
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

func BenchmarkDecodeBatch(b *testing.B) {
	body := realisticBatch(b, 500)
	if len(body) > segment.MaxBatchBytes {
		b.Fatalf("batch is %d bytes", len(body))
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		msgs, _, err := segment.DecodeBatch(body, receivedAt)
		if err != nil || len(msgs) != 500 {
			b.Fatal(err, len(msgs))
		}
	}
	b.ReportMetric(float64(len(body))/500, "bytes/msg")
}

// discardSink accepts everything and keeps nothing.
type discardSink struct{}

func (discardSink) Ingest(context.Context, string, []segment.Message) error { return nil }

func BenchmarkHandlerBatchGzip(b *testing.B) {
	body := gzipped(b, realisticBatch(b, 500))
	h := segment.NewHandler(discardSink{}, segment.Options{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body))
		r.Header.Set("Authorization", basic("wk_live"))
		r.Header.Set("Content-Encoding", "gzip")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body)
		}
	}
}
