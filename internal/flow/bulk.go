package flow

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// The bulk rescore scores every lead from its events in chunks of lead ids:
// per chunk one query for the leads and one for their events (only the
// columns the model reads), matched by one memoizing Matcher per worker,
// scored as of now. Only leads whose score or next decay changed are
// written, in one statement per chunk, guarded by the lead's updated_at.
// Leads a stage rule now moves go through the per-lead unit, so their
// transition, its explanation and its notification job are exactly what an
// event would have produced; their hits are stored in a few statements per
// chunk and their model_version set, as the per-lead path does. Chunks are read and scored by several workers
// and committed in id order, each with the run's progress, so a crash
// resumes at the first chunk not committed.
//
// Other leads' stored score hits are left alone: they belong to the lead's
// model_version, which the bulk path does not change there, and the per-lead path
// matches a lead's events again under the active model on its next event
// (unit.state). Explain does the same for a lead whose version differs.

// BulkOptions tune a bulk rescore; zero values take the defaults.
type BulkOptions struct {
	// ChunkSize is the number of leads per chunk and commit (default 10,000).
	ChunkSize int
	// Workers read and score chunks in parallel (default 2).
	Workers int
	// MaxChunks stops the run, unfinished, after that many chunks were
	// committed (0: no limit). For tests of resumption and for sampling.
	MaxChunks int
	// EventsTable reads events from the events table even when the compact
	// copy (event_scores) covers the model: for comparisons and benchmarks.
	EventsTable bool
}

// Default bulk rescore tuning.
const (
	DefaultBulkChunk   = 10_000
	DefaultBulkWorkers = 2
)

// BulkStats says what a bulk rescore did.
type BulkStats struct {
	Chunks      int           `json:"chunks"`
	Leads       int64         `json:"leads"`
	Events      int64         `json:"events"`
	Changed     int64         `json:"changed"`     // leads whose score columns were written
	Transitions int64         `json:"transitions"` // stage changes recorded
	Read        time.Duration `json:"read"`        // summed over workers: querying and decoding
	Score       time.Duration `json:"score"`       // summed over workers: matching and scoring
	Write       time.Duration `json:"write"`       // committing chunks
	Packed      int64         `json:"packed"`      // tail events packed before the scan
	Pack        time.Duration `json:"pack"`        // packing them
	Elapsed     time.Duration `json:"elapsed"`
	Finished    bool          `json:"finished"` // the run is done (not stopped by MaxChunks)
}

// NewRescoreRun records a rescore run of the active model without queueing
// a job, for the CLI and benchmarks that work it in their own process.
func (f *Flow) NewRescoreRun(ctx context.Context) (*store.RescoreRun, error) {
	total, err := f.db.CountLeads(ctx)
	if err != nil {
		return nil, err
	}
	var run *store.RescoreRun
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		mv, err := tx.ActiveModel(ctx)
		if err != nil {
			return err
		}
		run, err = tx.CreateRescoreRun(ctx, mv.Version, total)
		return err
	})
	return run, err
}

// bulkChunk is one range of lead ids, (lo, hi].
type bulkChunk struct {
	seq    int
	lo, hi int64
}

// bulkResult is a scored chunk waiting to be committed.
type bulkResult struct {
	bulkChunk
	leads, events int64
	changes       []store.ScoreChange
	moves         []bulkMove
	read, score   time.Duration
	err           error
}

// bulkMove is a lead a stage rule moves: it is re-qualified in the commit.
type bulkMove struct {
	id        int64
	updatedAt time.Time
	hits      []scoring.Hit
}

// RescoreBulk works the rescore run runID from its saved progress to the
// end (or MaxChunks) with the bulk path.
func (f *Flow) RescoreBulk(ctx context.Context, runID int64, opts BulkOptions) (BulkStats, error) {
	start := time.Now()
	var stats BulkStats
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultBulkChunk
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultBulkWorkers
	}
	run, err := f.db.RescoreRunByID(ctx, runID)
	if err != nil {
		return stats, err
	}
	if run.Status != store.RescoreRunning {
		stats.Finished = true
		return stats, nil
	}
	mv, err := f.db.ModelByVersion(ctx, run.ModelVersion)
	if err != nil {
		return stats, err
	}
	model, err := f.compiled(mv)
	if err != nil {
		return stats, err
	}
	if !opts.EventsTable && store.CompactCovers(model.EventFields()) {
		// The tail of the compact copy into the packs first, so the scan
		// reads about one row per lead (cheap when the tail is small).
		t0 := time.Now()
		ps, err := f.db.PackEvents(ctx, store.PackOptions{})
		if err != nil {
			return stats, err
		}
		stats.Packed, stats.Pack = ps.Events, time.Since(t0)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inflight := opts.Workers * 2
	tokens := make(chan struct{}, inflight)
	work := make(chan bulkChunk)
	results := make(chan bulkResult, inflight)
	var wg sync.WaitGroup

	// The coordinator cuts the id space into chunks from the saved progress.
	coordErr := make(chan error, 1)
	go func() {
		defer close(work)
		last, seq := run.LastLeadID, 0
		for opts.MaxChunks <= 0 || seq < opts.MaxChunks {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				coordErr <- nil
				return
			}
			end, err := f.db.ChunkEnd(ctx, last, opts.ChunkSize)
			if err != nil {
				coordErr <- err
				return
			}
			if end == 0 {
				break
			}
			select {
			case work <- bulkChunk{seq: seq, lo: last, hi: end}:
			case <-ctx.Done():
				coordErr <- nil
				return
			}
			last, seq = end, seq+1
		}
		coordErr <- nil
	}()
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newBulkScorer(model, f.db, !opts.EventsTable)
			for c := range work {
				r := w.chunk(ctx, c)
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	// The writer commits chunks in order.
	pending := map[int]bulkResult{}
	next := 0
	cause := "model v" + strconv.Itoa(run.ModelVersion)
	var werr error
	superseded := false
	for r := range results {
		if werr != nil || superseded {
			continue // drain
		}
		if r.err != nil {
			werr = r.err
			cancel()
			continue
		}
		pending[r.seq] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			t0 := time.Now()
			var written, moved int64
			written, moved, superseded, err = f.commitChunk(ctx, run, r, cause)
			stats.Write += time.Since(t0)
			stats.Changed += written
			stats.Transitions += moved
			if err != nil || superseded {
				werr = err
				cancel()
				break
			}
			stats.Chunks++
			stats.Leads += r.leads
			stats.Events += r.events
			stats.Read += r.read
			stats.Score += r.score
			<-tokens
		}
	}
	if cerr := <-coordErr; werr == nil && cerr != nil && !errors.Is(cerr, context.Canceled) {
		werr = cerr
	}
	if werr != nil {
		stats.Elapsed = time.Since(start)
		return stats, werr
	}
	if superseded {
		stats.Finished = true
		stats.Elapsed = time.Since(start)
		return stats, nil
	}
	if opts.MaxChunks <= 0 || stats.Chunks < opts.MaxChunks {
		if err := f.db.InTx(ctx, func(tx *store.Tx) error {
			return tx.FinishRescore(ctx, run.ID, store.RescoreDone, "")
		}); err != nil {
			return stats, err
		}
		stats.Finished = true
	}
	stats.Elapsed = time.Since(start)
	return stats, nil
}

// commitChunk writes one scored chunk and the run's progress in one
// transaction. It reports whether a newer model took over (the run is then
// finished as superseded and nothing of the chunk is written).
func (f *Flow) commitChunk(ctx context.Context, run *store.RescoreRun, r bulkResult, cause string) (written, moved int64, superseded bool, err error) {
	saved := *run
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		*run = saved // a retried transaction starts from the same progress
		written, moved, superseded = 0, 0, false
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		if u.act.Version != run.ModelVersion {
			superseded = true
			return tx.FinishRescore(ctx, run.ID, store.RescoreDone, fmt.Sprintf("superseded by model v%d", u.act.Version))
		}
		if written, err = tx.UpdateScores(ctx, r.changes); err != nil {
			return err
		}
		var hits []store.LeadHits
		for _, mv := range r.moves {
			l, err := tx.FindLead(ctx, mv.id)
			if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			if !l.UpdatedAt.Equal(mv.updatedAt) {
				continue // scored by an event meanwhile, under this model
			}
			// The hits were matched from the lead's events under the run's
			// model: stored with the lead below, they make it current
			// (model_version = the run's), as the per-lead path would.
			st := &leadState{lead: l, hits: mv.hits}
			u.leads[l.ID], u.order = st, append(u.order, l.ID)
			if err := u.qualify(ctx, st, nil, cause); err != nil {
				return err
			}
			hits = append(hits, store.LeadHits{LeadID: l.ID, Hits: toStoreHits(mv.hits)})
			moved++
		}
		if err := tx.ReplaceHitsOf(ctx, hits); err != nil {
			return err
		}
		if err := u.flush(ctx); err != nil {
			return err
		}
		run.Done += r.leads
		run.Changed += written + moved
		run.LastLeadID = r.hi
		if run.Done > run.Total {
			run.Total = run.Done
		}
		return tx.RescoreProgress(ctx, run)
	})
	if err != nil {
		*run = saved
	}
	return written, moved, superseded, err
}

// bulkScorer reads and scores chunks; one per worker goroutine.
type bulkScorer struct {
	db    *store.DB
	model *scoring.Model
	mt    *scoring.Matcher
	cols  store.EventColumns
	props *fieldDecoder
	cntx  *fieldDecoder
	types map[string]leadflow.EventType
	names map[string]string
	hits  []scoring.Hit
	fit   []scoring.FitHit
	// sigs is set when the model can be scored from the compact copy of
	// events (bulk_compact.go).
	sigs    *store.SigCache
	compact []store.CompactEvent // the chunk's compact events
	// sigHits are each signature's hits (EventID and At to be set), when
	// the behavior rules read the event alone.
	sigHits map[int64][]sigHit
	// buckets collect the current lead's hits per behavior rule (by
	// ruleBucket; the last for a rule not found), see flushBuckets.
	buckets    [][]scoring.Hit
	ruleBucket map[string]int
	// leadRead are the lead columns the model reads.
	leadRead store.LeadRead
	// movable caches mayAdvance per stage.
	movable map[leadflow.Stage]bool
}

func newBulkScorer(m *scoring.Model, db *store.DB, compact bool) *bulkScorer {
	fields := m.EventFields()
	w := &bulkScorer{db: db, model: m, mt: m.NewMatcher(),
		props: newFieldDecoder(fields, "properties"), cntx: newFieldDecoder(fields, "context"),
		types: map[string]leadflow.EventType{}, names: map[string]string{}, movable: map[leadflow.Stage]bool{}}
	// An event's explanation name falls back to properties.path, so the
	// path is decoded even when no rule reads it.
	if w.props == nil {
		w.props = newFieldDecoder([]string{"properties.path"}, "properties")
	}
	w.cols = store.EventColumns{Properties: true, Context: w.cntx != nil}
	leadFields, all := m.LeadFields()
	w.leadRead = store.LeadRead{Fields: leadFields, All: all}
	if compact && store.CompactCovers(fields) {
		w.sigs = db.NewSigCache()
		if m.EventOnly() {
			w.sigHits = map[int64][]sigHit{}
			w.ruleBucket = map[string]int{}
			for _, r := range m.Rules() {
				if r.Section == "behavior" {
					w.ruleBucket[r.ID] = len(w.ruleBucket)
				}
			}
			w.buckets = make([][]scoring.Hit, len(w.ruleBucket)+1)
		}
	}
	return w
}

// chunk reads and scores the leads of c.
func (w *bulkScorer) chunk(ctx context.Context, c bulkChunk) bulkResult {
	res := bulkResult{bulkChunk: c}
	t0 := time.Now()
	leads, err := w.db.LeadsInRangeRead(ctx, c.lo, c.hi, w.leadRead)
	if err != nil {
		res.err = err
		return res
	}
	res.leads = int64(len(leads))
	now := w.db.Now().UTC()
	var scoreTime time.Duration
	// Events come in lead order; leads[cur] is the lead whose events are
	// being matched (cur == i), or -1. finishTo scores every lead before id.
	i, cur := 0, -1
	w.hits = w.hits[:0]
	finishTo := func(id int64) {
		t := time.Now()
		for i < len(leads) && leads[i].ID < id {
			if i != cur {
				w.hits = w.hits[:0]
			}
			w.lead(leads[i], now, &res)
			i++
		}
		scoreTime += time.Since(t)
	}
	if w.sigs != nil {
		err = w.scanCompact(ctx, c, leads, &res, finishTo, &i, &cur)
		if err != nil {
			res.err = err
			return res
		}
		finishTo(c.hi + 1)
		res.score = scoreTime
		res.read = time.Since(t0) - scoreTime
		return res
	}
	var ev leadflow.Event
	err = w.db.ScanEvents(ctx, c.lo, c.hi, w.cols, func(e *store.RawEvent) error {
		res.events++
		if cur < 0 || leads[cur].ID != e.LeadID {
			finishTo(e.LeadID)
			w.hits = w.hits[:0]
			cur = -1
			if i < len(leads) && leads[i].ID == e.LeadID {
				cur = i
			}
		}
		if cur < 0 {
			return nil // an event of an erased lead
		}
		ev = leadflow.Event{ID: e.ID, LeadID: e.LeadID, Timestamp: e.Time()}
		ev.Type = w.eventType(e.Type)
		ev.Name = w.name(e.Name)
		var err error
		if ev.Properties, err = w.props.decode(e.Properties); err != nil {
			return leadflow.Internal(err, "decode event properties")
		}
		if w.cntx != nil {
			if ev.Context, err = w.cntx.decode(e.Context); err != nil {
				return leadflow.Internal(err, "decode event context")
			}
		}
		w.hits = w.mt.Match(leads[cur], &ev, w.hits)
		return nil
	})
	if err != nil {
		res.err = err
		return res
	}
	finishTo(c.hi + 1)
	res.score = scoreTime
	res.read = time.Since(t0) - scoreTime // matching events counts as reading
	return res
}

// lead scores one lead from w.hits as of now and records what changed.
func (w *bulkScorer) lead(l *leadflow.Lead, now time.Time, res *bulkResult) {
	w.fit = w.mt.Fit(l, now, w.fit[:0])
	r := w.mt.Score(w.fit, w.hits, now)
	if w.mayAdvance(l.Stage) && w.advances(l, r, now) {
		res.moves = append(res.moves, bulkMove{id: l.ID, updatedAt: l.UpdatedAt, hits: append([]scoring.Hit(nil), w.hits...)})
		return
	}
	if l.Score != r.Score || l.FitScore != r.Fit || l.BehaviorScore != r.Behavior || !l.NextDecayAt.Equal(r.NextChange) {
		res.changes = append(res.changes, store.ScoreChange{ID: l.ID, Score: r.Score, Fit: r.Fit, Behavior: r.Behavior,
			NextDecayAt: r.NextChange, UpdatedAt: l.UpdatedAt})
	}
}

// mayAdvance reports whether any stage rule could move a lead out of s
// (not out of opportunity, customer, disqualified, or the last stage), so
// that stage rules are evaluated only for leads they can move.
func (w *bulkScorer) mayAdvance(s leadflow.Stage) bool {
	ok, seen := w.movable[s]
	if !seen {
		all := scoring.StageSet{}
		for _, st := range []leadflow.Stage{leadflow.StageMQL, leadflow.StageSAL, leadflow.StageSQL, leadflow.StageHQL} {
			all[st] = true
		}
		_, _, ok = lifecycle.Advance(s, all)
		w.movable[s] = ok
	}
	return ok
}

func (w *bulkScorer) advances(l *leadflow.Lead, r scoring.Result, now time.Time) bool {
	_, _, ok := lifecycle.Advance(l.Stage, w.mt.Stages(l, r, now))
	return ok
}

func (w *bulkScorer) eventType(b []byte) leadflow.EventType {
	if t, ok := w.types[string(b)]; ok {
		return t
	}
	t := leadflow.EventType(b)
	if len(w.types) < maxInterned {
		w.types[string(t)] = t
	}
	return t
}

func (w *bulkScorer) name(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := w.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(w.names) < maxInterned {
		w.names[s] = s
	}
	return s
}
