package gen

import (
	"testing"
	"time"
)

// BenchmarkGenerate reports the cost per event: one op is one event, at the
// benchmark's 20 events per lead.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Leads: max(1, b.N/20), Events: b.N, End: time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC), Seed: 7}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	if err := Generate(cfg, func(rec *Record) error { n += len(rec.Events); return nil }); err != nil {
		b.Fatal(err)
	}
	if n != b.N {
		b.Fatalf("generated %d events, want %d", n, b.N)
	}
}
