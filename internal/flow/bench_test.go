package flow_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/traffic"
)

// benchBatch is the batch size of the ingestion benchmarks: what
// analytics-node and analytics.js flush at most, and PERFORMANCE.md's bar.
const benchBatch = 500

// warmBatches are ingested before timing so that returning visitors exist
// and the indexes are not trivially small.
const warmBatches = 40

// BenchmarkIngest measures Flow.Ingest, the whole ingestion transaction
// (identify, record, match, score, qualify, enqueue, durable commit), on
// batches of 500 realistic messages (~650 bytes each; page, track and
// identify calls of new and returning visitors; random UUID message ids).
// One op is one batch; events/s is the figure to compare with
// BenchmarkRawInsert (PERFORMANCE.md's raw insert bar).
func BenchmarkIngest(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend, func(b *testing.B) { benchIngest(b, backend) })
	}
}

// BenchmarkIngestConcurrent is BenchmarkIngest with four requests in
// flight, as lfload sends them: one op is four batches of 500 ingested by
// four goroutines at once, which SQLite commits together (group commit).
func BenchmarkIngestConcurrent(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend, func(b *testing.B) { benchIngestN(b, backend, 4) })
	}
}

func benchIngest(b *testing.B, backend string) { benchIngestN(b, backend, 1) }

func benchIngestN(b *testing.B, backend string, inFlight int) {
	ctx := context.Background()
	db := storetest.Open(b, backend) // skips PostgreSQL without LEADFLOW_TEST_POSTGRES
	q, err := jobs.New(db, nil, jobs.Config{})
	if err != nil {
		b.Fatal(err)
	}
	f := flow.New(db, q, nil)
	if err := f.EnsureModel(ctx); err != nil {
		b.Fatal(err)
	}
	var key string
	if err := db.InTx(ctx, func(tx *store.Tx) (err error) {
		_, key, err = tx.CreateSource(ctx, "bench")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	tr := traffic.New(1)
	for range warmBatches {
		if err := f.Ingest(ctx, key, messages(b, tr, benchBatch)); err != nil {
			b.Fatal(err)
		}
	}
	// Decoding is the segment package's cost (BenchmarkDecodeBatch): done
	// before timing. Messages are the sink's to keep, so one per op.
	batches := make([][]segment.Message, b.N*inFlight)
	for i := range batches {
		batches[i] = messages(b, tr, benchBatch)
	}
	w0, cpu0, pg0 := writtenBytes(), storetest.CPUTime(), serverCPU(db)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		errs := make([]error, inFlight)
		var wg sync.WaitGroup
		for j := range inFlight {
			wg.Go(func() { errs[j] = f.Ingest(ctx, key, batches[i*inFlight+j]) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportIO(b, backend, b.N*inFlight, w0, cpu0)
	if pg0 >= 0 {
		if pg := serverCPU(db); pg >= 0 {
			b.ReportMetric(float64((pg-pg0).Microseconds())/float64(b.N*inFlight*benchBatch), "pg-cpu-µs/event")
		}
	}
	want := int64((warmBatches + b.N*inFlight) * benchBatch)
	if n, err := db.CountEvents(ctx); err != nil || n != want {
		b.Fatalf("%d events stored (%v), want %d", n, err, want)
	}
}

// BenchmarkRawInsert is PERFORMANCE.md's raw insert bar, measured in the
// same run on the same machine so that BenchmarkIngest can be compared
// side by side: the same messages as plain rows, 500 per multi-row INSERT
// … ON CONFLICT DO NOTHING and durable commit, into a table with the
// (source, message id) unique index and a (lead, time) index, with the
// store's connection settings. Nothing is identified, scored or qualified.
func BenchmarkRawInsert(b *testing.B) {
	for _, backend := range storetest.Backends() {
		b.Run(backend, func(b *testing.B) { benchRawInsert(b, backend) })
	}
}

func benchRawInsert(b *testing.B, backend string) {
	ctx := context.Background()
	db := storetest.Open(b, backend)
	for _, ddl := range []string{
		`CREATE TABLE raw_events (id INTEGER PRIMARY KEY, source_id BIGINT NOT NULL, message_id TEXT NOT NULL,
			lead_id BIGINT, anonymous_id TEXT NOT NULL, user_id TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL,
			properties TEXT NOT NULL, context TEXT NOT NULL, ts BIGINT NOT NULL, received_at BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX raw_events_message ON raw_events (source_id, message_id)`,
		`CREATE INDEX raw_events_lead_ts ON raw_events (lead_id, ts)`,
	} {
		if _, err := db.Write.ExecContext(ctx, ddl); err != nil {
			b.Fatal(err)
		}
	}
	tr := traffic.New(1)
	leads := map[string]int64{}
	nextID := int64(0)
	rows := func() []any {
		var args []any
		for _, m := range messages(b, tr, benchBatch) {
			e := m.ToEvent()
			lead, ok := leads[e.AnonymousID]
			if !ok {
				lead = int64(len(leads) + 1)
				leads[e.AnonymousID] = lead
			}
			nextID++
			args = append(args, nextID, 1, e.MessageID, lead, e.AnonymousID, e.UserID, string(e.Type), e.Name,
				jsonString(b, e.Properties), jsonString(b, e.Context), e.Timestamp.UnixMicro(), e.ReceivedAt.UnixMicro())
		}
		return args
	}
	insert := db.Dialect.Rebind("INSERT INTO raw_events VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", benchBatch), ",") +
		" ON CONFLICT (source_id, message_id) DO NOTHING")
	exec := func(args []any) {
		tx, err := db.Write.BeginTx(ctx, nil)
		if err == nil {
			if _, err = tx.ExecContext(ctx, insert, args...); err == nil {
				err = tx.Commit()
			} else {
				_ = tx.Rollback()
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	for range warmBatches {
		exec(rows())
	}
	batches := make([][]any, b.N)
	for i := range batches {
		batches[i] = rows()
	}
	w0, cpu0 := writtenBytes(), storetest.CPUTime()
	b.ResetTimer()
	for i := range b.N {
		exec(batches[i])
	}
	b.StopTimer()
	reportIO(b, backend, b.N, w0, cpu0)
}

func jsonString(tb testing.TB, v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// serverCPU is the CPU time (user and system) of the PostgreSQL backends
// serving db's connections, or -1 when unknown (SQLite, a server on
// another machine). The backends are told apart by application_name, so
// give the test DSN one of its own (…&application_name=lfbench) or other
// clients of the same name are counted too; -1 without one.
func serverCPU(db *store.DB) time.Duration {
	if db.Dialect != store.Postgres {
		return -1
	}
	rows, err := db.Read.QueryContext(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE application_name = current_setting('application_name') AND application_name <> ''`)
	if err != nil {
		return -1
	}
	defer rows.Close()
	var total time.Duration
	n := 0
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			return -1
		}
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return -1
		}
		// Fields after the command's closing parenthesis: state is the
		// 3rd field of the line, utime and stime the 14th and 15th.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(f) < 13 {
			return -1
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * (time.Second / 100) // USER_HZ
		n++
	}
	if rows.Err() != nil || n == 0 {
		return -1
	}
	return total
}

// reportIO reports events/s, the CPU time of this process per event (on
// SQLite, where the database runs in this process, all of it) and, on
// SQLite, the bytes written to storage per event: together with events/s
// they tell whether the disk or the CPU bounds it.
func reportIO(b *testing.B, backend string, batches int, w0 int64, cpu0 time.Duration) {
	events := float64(batches * benchBatch)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((storetest.CPUTime()-cpu0).Microseconds())/events, "cpu-µs/event")
	if backend != "sqlite" {
		return // the server's CPU: pg-cpu-µs/event
	}
	if w0 >= 0 {
		b.ReportMetric(float64(writtenBytes()-w0)/events, "wB/event")
	}
}

// writtenBytes is what this process has written to storage (Linux), or -1.
func writtenBytes() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}

// BenchmarkScoreEvent is the scoring work Ingest does per event, without
// the database: match the event against the behavior rules, compute fit
// and score over the lead's hits, and evaluate the stage rules. The lead
// has 20 earlier events; the scoring package's BenchmarkMatch and
// BenchmarkScoreLead measure the parts.
func BenchmarkScoreEvent(b *testing.B) {
	m := scoring.MustCompile("default.yaml", scoring.DefaultModel)
	mt := m.NewMatcher()
	now := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	lead := &leadflow.Lead{Email: "lead1@corp1.example.co.jp", Industry: "it", Employees: 300, Title: "営業部長"}
	evs := make([]leadflow.Event, 256)
	for i := range evs {
		evs[i] = leadflow.Event{ID: int64(i + 1), Type: leadflow.EventPage, Timestamp: now.Add(-time.Duration(i) * time.Hour),
			Properties: map[string]any{"path": []string{"/", "/pricing", "/product/scoring", "/blog/x"}[i%4]}}
		if i%3 == 0 {
			evs[i].Type, evs[i].Name = leadflow.EventTrack, []string{"Document Downloaded", "Email Link Clicked", "Feature Tour Started"}[i%9/3]
		}
	}
	var hits []scoring.Hit
	for i := range 20 {
		hits = mt.Match(lead, &evs[i], hits)
	}
	base := len(hits)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := &evs[20+i%(len(evs)-20)]
		i++
		h := mt.Match(lead, ev, hits[:base])
		r := m.Score(m.Fit(lead, now), h, now)
		m.Stages(lead, r, ev, now)
	}
}

// messages returns the next n messages of tr as the HTTP handler would
// decode them.
func messages(tb testing.TB, tr *traffic.Traffic, n int) []segment.Message {
	tb.Helper()
	msgs, _, err := segment.DecodeBatch(tr.Batch(nil, n), time.Now())
	if err != nil || len(msgs) != n {
		tb.Fatalf("decode: %v (%d messages)", err, len(msgs))
	}
	return msgs
}
