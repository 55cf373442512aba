package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// BenchmarkLeadListSearch times the lead list's filter choices and text
// searches against the database named by LEADFLOW_BENCH_DB (a DSN) or
// LEADFLOW_BENCH_DATA_DIR (an embedded SQLite data dir), e.g. one made by
//
//	go run ./cmd/leadflow gen --leads 1000000 --events 1000000 --data-dir /tmp/lf1m
//	LEADFLOW_BENCH_DATA_DIR=/tmp/lf1m go test ./internal/store/ -run '^$' -bench LeadListSearch -benchtime 20x
//
// Besides ns/op it reports cpu-µs/op (user+system CPU of the process per
// operation), the figure that holds on a busy machine. The texts are of
// the generated set (gen's e-mail domains and company names).
func BenchmarkLeadListSearch(b *testing.B) {
	ctx := context.Background()
	db := storetest.BenchDB(b)
	run := func(name string, fn func() error) {
		b.Run(name, func(b *testing.B) {
			if err := fn(); err != nil { // warm the cache
				b.Fatal(err)
			}
			c0 := storetest.CPUTime()
			b.ResetTimer()
			for b.Loop() {
				if err := fn(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((storetest.CPUTime()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
	run("filter-values", func() error {
		fv, err := db.LeadFilterValues(ctx)
		if err == nil && len(fv.Sources) == 0 {
			b.Fatal("no sources: not a generated data set")
		}
		return err
	})
	for _, q := range []struct{ name, q string }{
		{"rare-domain", "hakusan-cloud42."},     // a few leads
		{"rare-address", "yoshida.yuichi2@"},    // tens of leads
		{"common-word", "株式会社"},                 // most leads
		{"two-chars", "吉田"},                     // too short for trigrams
		{"no-match", "存在しない会社名xyz"},             // nothing
		{"rare-mixed-case", "HAKUSAN-Cloud42."}, // case-insensitive
	} {
		run("q="+q.name, func() error {
			_, _, err := db.FindLeads(ctx, store.LeadFilter{Q: q.q, Limit: 50})
			return err
		})
	}
	// The same rare texts without the index (as before migration 00015).
	restore := store.SetSearchMaxCandidates(0)
	defer restore()
	for _, q := range []string{"hakusan-cloud42.", "yoshida.yuichi2@"} {
		run("scan/q="+q, func() error {
			_, _, err := db.FindLeads(ctx, store.LeadFilter{Q: q, Limit: 50})
			return err
		})
	}
}

// BenchmarkLeadInsertSearchIndex is the cost of keeping the text search
// index (migration 00015) on lead inserts and on updates of name, email
// and company: the same work with and without the index's triggers (SQLite)
// or trigram indexes (PostgreSQL, LEADFLOW_TEST_POSTGRES), on a fresh
// database, 1,000 leads per transaction.
//
//	go test ./internal/store/ -run '^$' -bench LeadInsertSearchIndex -benchtime 20x
func BenchmarkLeadInsertSearchIndex(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, indexed := range []bool{true, false} {
			name := backend + "/without-index"
			if indexed {
				name = backend + "/with-index"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				db, err := store.Open(ctx, store.Options{DSN: storetest.DSN(b, backend), DataDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				if !indexed {
					drop := []string{"DROP TRIGGER leads_search_insert", "DROP TRIGGER leads_search_update", "DROP TRIGGER leads_search_delete"}
					if backend == "postgres" {
						drop = []string{"DROP INDEX leads_name_trgm", "DROP INDEX leads_email_trgm", "DROP INDEX leads_company_trgm"}
					}
					for _, q := range drop {
						if _, err := db.Write.ExecContext(ctx, q); err != nil {
							b.Fatal(err)
						}
					}
				}
				n := 0
				c0 := storetest.CPUTime()
				b.ResetTimer()
				for b.Loop() {
					if err := db.InTx(ctx, func(tx *store.Tx) error {
						for range 1000 {
							n++
							l := leadflow.Lead{Email: fmt.Sprintf("bench%d@kabushiki-%d.example.co.jp", n, n%997),
								Name: fmt.Sprintf("山田 太郎%d", n), Company: fmt.Sprintf("株式会社ベンチ工業 %d", n%997)}
							if err := tx.CreateLead(ctx, &l); err != nil {
								return err
							}
							l.Company += " 本社"
							if err := tx.UpdateLead(ctx, &l); err != nil {
								return err
							}
						}
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((storetest.CPUTime()-c0).Microseconds())/float64(b.N*1000), "cpu-µs/lead")
			})
		}
	}
}
