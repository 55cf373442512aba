package analytics_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// BenchmarkKPIQueries times each KPI read on its own, over the last 3 and
// 12 months of the history, in Asia/Tokyo, monthly buckets: the store
// reads of GET /api/v1/kpis (cohorts and stage counts, velocity, first
// touch, SLA, recycles and rejections, won deals, scores), the whole
// report without and with each breakdown, by week and quarter, the
// targets' progress, the review report (without its backtest) and the
// dashboard's numbers. The history
// ends at LEADFLOW_BENCH_END (RFC 3339; default the generated histories'
// 2026-07-01), e.g. for a database loaded by `leadflow gen`, which ends at
// the time it ran:
//
//	LEADFLOW_BENCH_DB=/tmp/h3kpi/leadflow.db LEADFLOW_BENCH_END=2026-11-24T03:00:00Z \
//	  go test ./internal/analytics -run '^$' -bench 'KPIQueries/sqlite' -benchtime 5x
func BenchmarkKPIQueries(b *testing.B) {
	end := genEnd
	if s := os.Getenv("LEADFLOW_BENCH_END"); s != "" {
		var err error
		if end, err = time.Parse(time.RFC3339, s); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			db := benchDB(b, backend) // one load for both periods
			for _, months := range []int{3, 12} {
				b.Run(map[int]string{3: "3m", 12: "12m"}[months], func(b *testing.B) {
					tokyo, _ := time.LoadLocation("Asia/Tokyo")
					to := end.In(tokyo)
					from := time.Date(to.Year(), to.Month()-time.Month(months)+1, 1, 0, 0, 0, 0, tokyo)
					p := analytics.Period{From: from, To: to, Loc: tokyo, Interval: analytics.Month}
					r := analytics.KPIRangeOf(p, "")
					pw := p
					pw.Interval = analytics.Week
					rw := analytics.KPIRangeOf(pw, "campaign") // the report's heaviest reads
					reads := []struct {
						name string
						fn   func() error
					}{
						{"refresh", func() error { _, err := db.RefreshFunnel(ctx); return err }},
						{"cohorts", func() error { _, err := db.KPICohorts(ctx, r); return err }},
						{"velocity", func() error { return db.KPIVelocity(ctx, r, func(store.DurationRow) {}) }},
						{"first_touch", func() error { return db.KPIFirstTouch(ctx, r, func(store.DurationRow) {}) }},
						{"sla", func() error { _, err := db.KPISLA(ctx, r, end); return err }},
						{"recycles", func() error { _, err := db.KPIRecycles(ctx, r); return err }},
						{"won", func() error { _, err := db.KPIWon(ctx, r); return err }},
						{"scores", func() error { _, err := db.KPIScores(ctx, r); return err }},
						// What the report reads: velocity without its zeros
						// (from the cohorts) and first touch together.
						{"durations", func() error {
							return db.KPIDurations(ctx, r, func(store.DurationRow) {}, func(store.DurationRow) {}, true)
						}},
						{"cohorts_week_by_campaign", func() error { _, err := db.KPICohorts(ctx, rw); return err }},
						{"durations_week_by_campaign", func() error {
							return db.KPIDurations(ctx, rw, func(store.DurationRow) {}, func(store.DurationRow) {}, true)
						}},
						{"recycles_week_by_campaign", func() error { _, err := db.KPIRecycles(ctx, rw); return err }},
						{"won_week_by_campaign", func() error { _, err := db.KPIWon(ctx, rw); return err }},
						{"scores_by_campaign", func() error { _, err := db.KPIScores(ctx, rw); return err }},
						{"kpis", func() error {
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, Now: end})
							return err
						}},
						{"kpis_by_campaign", func() error {
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "campaign", Now: end})
							return err
						}},
						{"kpis_by_owner", func() error {
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "owner", Now: end})
							return err
						}},
						{"kpis_by_source", func() error {
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "source", Now: end})
							return err
						}},
						{"kpis_by_medium", func() error {
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "medium", Now: end})
							return err
						}},
						{"kpis_by_industry", func() error {
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "industry", Now: end})
							return err
						}},
						{"kpis_by_team", func() error {
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "team", Now: end})
							return err
						}},
						{"kpis_week", func() error {
							q := p
							q.Interval = analytics.Week
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: q, Now: end})
							return err
						}},
						{"kpis_week_by_campaign", func() error {
							q := p
							q.Interval = analytics.Week
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: q, GroupBy: "campaign", Now: end})
							return err
						}},
						{"kpis_quarter", func() error {
							q := p
							q.Interval = analytics.Quarter
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: q, Now: end})
							return err
						}},
						{"kpis_quarter_by_campaign", func() error {
							q := p
							q.Interval = analytics.Quarter
							_, err := analytics.KPIs(ctx, db, analytics.Query{Period: q, GroupBy: "campaign", Now: end})
							return err
						}},
						{"targets", func() error { _, err := analytics.Progress(ctx, db, p, end); return err }},
						{"review", func() error { _, err := analytics.ReviewReport(ctx, db, p, end, nil); return err }},
						{"dashboard", func() error {
							if _, _, err := db.FunnelAndSources(ctx, from, to); err != nil {
								return err
							}
							if _, err := db.StageTrend(ctx, from, to, 7*24*time.Hour); err != nil {
								return err
							}
							_, err := db.SLAStatusNow(ctx, end)
							return err
						}},
					}
					for _, rd := range reads {
						b.Run(rd.name, func(b *testing.B) {
							cpu0 := storetest.CPUTime()
							for b.Loop() {
								if err := rd.fn(); err != nil {
									b.Fatal(err)
								}
							}
							b.ReportMetric(float64((storetest.CPUTime()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/op")
						})
					}
				})
			}
		})
	}
}

// BenchmarkKPIAggBuild times the migrations (00014 builds nothing but adds
// a column and the covering indexes) and a build of the KPI
// pre-aggregates from kpi_funnel, as the first refresh after migration
// 00014 does on an existing database, on LEADFLOW_BENCH_DB:
//
//	LEADFLOW_BENCH_DB=/tmp/h3/work/leadflow.db go test ./internal/analytics -run '^$' -bench KPIAggBuild -benchtime 1x
func BenchmarkKPIAggBuild(b *testing.B) {
	dsn := os.Getenv("LEADFLOW_BENCH_DB")
	if dsn == "" {
		b.Skip("set LEADFLOW_BENCH_DB to a generated data set")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DSN: dsn})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("migrate: %s", time.Since(t0))
	t0 = time.Now()
	if _, err := db.RefreshFunnel(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("first refresh: %s", time.Since(t0))
	cpu0 := storetest.CPUTime()
	for b.Loop() {
		if err := db.ResetKPIAggregates(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := db.RefreshFunnel(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((storetest.CPUTime()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/op")
}
