package analytics

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// backtestJob reads the leads in id chunks, several workers at a time:
// per chunk one query for the leads, one for their outcomes and one
// streaming their events in lead order (only the columns the models read).
type backtestJob struct {
	db     *store.DB
	o      BacktestOptions
	models []BacktestModel
	levels [][]float64 // per model: the thresholds followed
	months []Bucket
}

// partial is what one worker counted.
type partial struct {
	leads, events, sqls, won int64
	// per model, per threshold:
	mqls, becameSQL, becameCust, caughtSQL, caughtWon [][]int64
	byMonth                                           [][][]int64
	leadTimes                                         [][][]int64 // µs from crossing to SQL
	peaks                                             []peak
}

func newPartial(nm, nt, nmonths int) *partial {
	p := &partial{}
	mk := func() [][]int64 {
		out := make([][]int64, nm)
		for i := range out {
			out[i] = make([]int64, nt)
		}
		return out
	}
	p.mqls, p.becameSQL, p.becameCust, p.caughtSQL, p.caughtWon = mk(), mk(), mk(), mk(), mk()
	p.byMonth = make([][][]int64, nm)
	p.leadTimes = make([][][]int64, nm)
	for i := range nm {
		p.byMonth[i] = make([][]int64, nt)
		p.leadTimes[i] = make([][]int64, nt)
		for j := range nt {
			p.byMonth[i][j] = make([]int64, nmonths)
		}
	}
	return p
}

func (j *backtestJob) run(ctx context.Context) ([]*partial, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type chunk struct{ lo, hi int64 }
	work := make(chan chunk)
	var wg sync.WaitGroup
	parts := make([]*partial, j.o.Workers)
	errs := make([]error, j.o.Workers+1)
	for w := range j.o.Workers {
		parts[w] = newPartial(len(j.models), len(j.o.Thresholds), len(j.months))
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := newBacktestWorker(j, parts[w])
			for c := range work {
				if errs[w] != nil {
					continue
				}
				if err := wk.chunk(ctx, c.lo, c.hi); err != nil {
					errs[w] = err
					cancel()
				}
			}
		}()
	}
	last := int64(0)
	for {
		end, err := j.db.ChunkEnd(ctx, last, j.o.ChunkSize)
		if err != nil {
			errs[j.o.Workers] = err
			break
		}
		if end == 0 {
			break
		}
		select {
		case work <- chunk{last, end}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		last = end
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return parts, nil
}

// backtestWorker replays the leads of one chunk at a time.
type backtestWorker struct {
	j     *backtestJob
	p     *partial
	reps  []*replayer
	cols  store.EventColumns
	props decodeCache
	ctxs  decodeCache
	strs  map[string]string
	evs   []bufEvent
	ev    leadflow.Event
	// sigs is set when every model reads only type, name and
	// properties.path: events then come from the compact copy.
	sigs    *store.SigCache
	compact []store.CompactEvent
	// leadRead are the lead columns the models read.
	leadRead store.LeadRead
}

// bufEvent is one event of the current lead, decoded.
type bufEvent struct {
	id, ts     int64
	sig        int64 // compact signature; 0 when read from the events table
	typ, name  string
	props, ctx map[string]any
}

func newBacktestWorker(j *backtestJob, p *partial) *backtestWorker {
	w := &backtestWorker{j: j, p: p, strs: map[string]string{},
		props: decodeCache{m: map[string]map[string]any{}}, ctxs: decodeCache{m: map[string]map[string]any{}}}
	for i, m := range j.models {
		w.reps = append(w.reps, newReplayer(m.Model, j.levels[i]))
	}
	w.cols = store.EventColumns{Properties: needs(j.models, "properties"), Context: needs(j.models, "context")}
	covered := true
	for _, m := range j.models {
		covered = covered && store.CompactCovers(m.Model.EventFields())
		fields, all := m.Model.LeadFields()
		w.leadRead = w.leadRead.Union(store.LeadRead{Fields: fields, All: all, Columns: []string{"created_at", "stage_at"}})
	}
	if covered && !j.o.EventsTable {
		w.sigs = j.db.NewSigCache()
	}
	return w
}

func (w *backtestWorker) intern(b []byte) string {
	if s, ok := w.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(w.strs) < 1<<14 {
		w.strs[s] = s
	}
	return s
}

func (w *backtestWorker) chunk(ctx context.Context, lo, hi int64) error {
	o := w.j.o
	all, err := w.j.db.LeadsInRangeRead(ctx, lo, hi, w.leadRead)
	if err != nil {
		return err
	}
	cohort := map[int64]*leadflow.Lead{}
	var ids []int64
	for _, l := range all {
		if !l.CreatedAt.Before(o.From) && l.CreatedAt.Before(o.To) {
			cohort[l.ID] = l
			ids = append(ids, l.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	outcomes := map[int64]store.Outcome{}
	if err := w.j.db.Outcomes(ctx, lo, hi, func(oc store.Outcome) error {
		if _, ok := cohort[oc.LeadID]; ok {
			outcomes[oc.LeadID] = oc
		}
		return nil
	}); err != nil {
		return err
	}
	to := o.To.UnixMicro()
	done := map[int64]bool{}
	var cur int64
	flush := func() {
		if cur != 0 {
			w.lead(cohort[cur], outcomes[cur])
			done[cur] = true
		}
		w.evs = w.evs[:0]
	}
	if w.sigs != nil {
		w.compact, err = w.j.db.ReadCompact(ctx, lo, hi, w.sigs, w.compact[:0])
		for k := range w.compact {
			if err != nil {
				break
			}
			e := &w.compact[k]
			if e.LeadID != cur {
				flush()
				cur = 0
				if _, ok := cohort[e.LeadID]; ok {
					cur = e.LeadID
				}
			}
			if cur == 0 || e.TS >= to {
				continue
			}
			t, _ := w.sigs.Event(e.Sig) // ReadCompact loaded every signature
			w.evs = append(w.evs, bufEvent{id: e.ID, ts: e.TS, sig: e.Sig, typ: string(t.Type), name: t.Name, props: t.Properties})
		}
		if cap(w.compact) > 1<<20 {
			w.compact = nil
		}
	} else {
		err = w.scanEvents(ctx, lo, hi, to, cohort, &cur, flush)
	}
	if err != nil {
		return err
	}
	flush()
	for _, id := range ids { // leads without events: fit only
		if !done[id] {
			w.lead(cohort[id], outcomes[id])
		}
	}
	return nil
}

// scanEvents reads the chunk's events from the events table, with the
// JSON columns the models read.
func (w *backtestWorker) scanEvents(ctx context.Context, lo, hi, to int64, cohort map[int64]*leadflow.Lead, cur *int64, flush func()) error {
	return w.j.db.ScanEvents(ctx, lo, hi, w.cols, func(e *store.RawEvent) error {
		if e.LeadID != *cur {
			flush()
			*cur = 0
			if _, ok := cohort[e.LeadID]; ok {
				*cur = e.LeadID
			}
		}
		if *cur == 0 || e.TS >= to {
			return nil
		}
		be := bufEvent{id: e.ID, ts: e.TS, typ: w.intern(e.Type), name: w.intern(e.Name)}
		var err error
		if w.cols.Properties {
			if be.props, err = w.props.decode(e.Properties); err != nil {
				return leadflow.Internal(err, "decode event properties")
			}
		}
		if w.cols.Context {
			if be.ctx, err = w.ctxs.decode(e.Context); err != nil {
				return leadflow.Internal(err, "decode event context")
			}
		}
		w.evs = append(w.evs, be)
		return nil
	})
}

// event builds the Event of e (w.ev, reused).
func (w *backtestWorker) event(l *leadflow.Lead, e *bufEvent) *leadflow.Event {
	w.ev = leadflow.Event{ID: e.id, LeadID: l.ID, Type: leadflow.EventType(e.typ), Name: e.name,
		Properties: e.props, Context: e.ctx, Timestamp: time.UnixMicro(e.ts).UTC()}
	return &w.ev
}

// lead replays one cohort lead (its events are in w.evs) under every
// model and counts it.
func (w *backtestWorker) lead(l *leadflow.Lead, oc store.Outcome) {
	o := w.j.o
	p := w.p
	p.leads++
	p.events += int64(len(w.evs))
	if !slices.IsSortedFunc(w.evs, cmpEvent) {
		slices.SortFunc(w.evs, cmpEvent)
	}
	sqlAt, wonAt := us(oc.SQLAt), us(oc.WonAt)
	if oc.WonAt.IsZero() && l.Stage == leadflow.StageCustomer {
		wonAt = us(l.StageAt) // a customer without a recorded transition
	}
	if sqlAt == 0 && l.Stage.Rank() >= leadflow.StageSQL.Rank() {
		sqlAt = us(l.StageAt)
	}
	if wonAt != 0 && sqlAt == 0 {
		sqlAt = wonAt // won without a recorded SQL: it was one by then
	}
	p.sqls += b2i(sqlAt != 0)
	p.won += b2i(wonAt != 0)
	created := us(l.CreatedAt)
	pk := peak{id: l.ID, sql: sqlAt != 0, won: wonAt != 0}
	for mi, r := range w.reps {
		r.start(l, o.To)
		evaluated := false
		for i := 0; i < len(w.evs); {
			ts := w.evs[i].ts
			if !evaluated && ts > created {
				r.eval(created) // the lead's fit counts from its creation
				evaluated = true
			}
			for ; i < len(w.evs) && w.evs[i].ts == ts; i++ {
				e := &w.evs[i]
				if e.sig != 0 && r.sigHits != nil {
					r.addSig(e.sig, l, func() *leadflow.Event { return w.event(l, e) }, ts)
					continue
				}
				r.add(l, w.event(l, e), ts)
			}
			r.eval(ts)
		}
		if !evaluated {
			r.eval(max(created, lastTS(w.evs)))
		}
		pk.scores[min(mi, 1)] = r.peak
		lv := w.j.levels[mi]
		for ti := range o.Thresholds {
			at := r.cross[ti] // levels == thresholds (sorted, unique)
			if at == 0 || ti >= len(lv) {
				continue
			}
			p.mqls[mi][ti]++
			p.byMonth[mi][ti][w.month(at)]++
			if sqlAt != 0 {
				p.becameSQL[mi][ti]++
				if at <= sqlAt {
					p.caughtSQL[mi][ti]++
					p.leadTimes[mi][ti] = append(p.leadTimes[mi][ti], sqlAt-at)
				}
			}
			if wonAt != 0 {
				p.becameCust[mi][ti]++
				if at < wonAt {
					p.caughtWon[mi][ti]++
				}
			}
		}
	}
	if len(w.reps) > 1 {
		p.peaks = append(p.peaks, pk)
	}
}

func lastTS(evs []bufEvent) int64 {
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].ts
}

func cmpEvent(a, b bufEvent) int { return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.id, b.id)) }

// month returns the index of the period month of a crossing; crossings
// before the period (events before the lead's creation) count in the first.
func (w *backtestWorker) month(at int64) int {
	t := time.UnixMicro(at).UTC()
	ms := w.j.months
	i := sort.Search(len(ms), func(i int) bool { return ms[i].From.After(t) }) - 1
	return max(0, min(i, len(ms)-1))
}

func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// merged is the sum of the workers' partials.
type merged struct {
	*partial
}

func merge(parts []*partial, nm, nt, nmonths int) merged {
	t := newPartial(nm, nt, nmonths)
	for _, p := range parts {
		t.leads += p.leads
		t.events += p.events
		t.sqls += p.sqls
		t.won += p.won
		for mi := range nm {
			for ti := range nt {
				t.mqls[mi][ti] += p.mqls[mi][ti]
				t.becameSQL[mi][ti] += p.becameSQL[mi][ti]
				t.becameCust[mi][ti] += p.becameCust[mi][ti]
				t.caughtSQL[mi][ti] += p.caughtSQL[mi][ti]
				t.caughtWon[mi][ti] += p.caughtWon[mi][ti]
				t.leadTimes[mi][ti] = append(t.leadTimes[mi][ti], p.leadTimes[mi][ti]...)
				for k := range nmonths {
					t.byMonth[mi][ti][k] += p.byMonth[mi][ti][k]
				}
			}
		}
		t.peaks = append(t.peaks, p.peaks...)
	}
	return merged{t}
}

func (t merged) row(mi, ti int, threshold float64, res *BacktestResult, o BacktestOptions) ThresholdRow {
	r := ThresholdRow{Threshold: threshold, MQLs: t.mqls[mi][ti], ByMonth: t.byMonth[mi][ti],
		BecameSQL: t.becameSQL[mi][ti], BecameCustomer: t.becameCust[mi][ti],
		CaughtSQL: t.caughtSQL[mi][ti], CaughtWon: t.caughtWon[mi][ti]}
	if res.MonthLen > 0 {
		r.PerMonth = round(float64(r.MQLs)/res.MonthLen, 2)
	}
	r.PrecisionSQL = rate(float64(r.BecameSQL), float64(r.MQLs))
	r.PrecisionCustomer = rate(float64(r.BecameCustomer), float64(r.MQLs))
	r.RecallSQL = rate(float64(r.CaughtSQL), float64(res.SQLs))
	r.RecallWon = rate(float64(r.CaughtWon), float64(res.Won))
	if o.Outcome == OutcomeSQL {
		r.F = fBeta(r.PrecisionSQL, r.RecallSQL, o.Beta)
	} else {
		r.F = fBeta(r.PrecisionCustomer, r.RecallWon, o.Beta)
	}
	if m, ok := Quantile(t.leadTimes[mi][ti], 0.5); ok {
		r.MedianMQLToSQLHours = ptr(round(m/float64(time.Hour/time.Microsecond), 2))
	}
	return r
}
