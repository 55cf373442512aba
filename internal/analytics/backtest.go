package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// BacktestModel is a model to replay: the draft (Version 0) or the active
// version.
type BacktestModel struct {
	Name    string
	Version int
	Model   *scoring.Model
}

// BacktestOptions say what to replay and how to judge it.
type BacktestOptions struct {
	// From and To bound the cohort: leads created in [From, To). Events
	// up to To are replayed; outcomes count up to now.
	From, To time.Time
	Loc      *time.Location
	// Thresholds are the MQL score thresholds to try (default 10:150:5).
	Thresholds []float64
	// Capacity is how many MQLs per month sales can take (0: none).
	Capacity float64
	// Beta weighs recall against precision in F-beta (default 1).
	Beta float64
	// Outcome is what counts as a good MQL: "customer" (default: a won
	// deal) or "sql".
	Outcome string
	// CompareAt is the draft threshold the changes against the active
	// model are listed at (default: the draft's own mql threshold, else
	// the max-F recommendation).
	CompareAt float64
	// MoveLimit caps the leads listed as moving in or out (default 50).
	MoveLimit int
	Workers   int
	ChunkSize int
	// EventsTable reads events from the events table even when the
	// compact scoring copy covers the models: for comparisons.
	EventsTable bool
}

// Outcomes a backtest can optimise for.
const (
	OutcomeCustomer = "customer"
	OutcomeSQL      = "sql"
)

// BacktestResult is the threshold sweep of the draft (and the active
// model), the recommendations and what changes against the active model.
type BacktestResult struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TZ       string    `json:"tz"`
	Months   []string  `json:"months"`
	MonthLen float64   `json:"month_count" doc:"Length of the period in months (partial months count in proportion)"`
	Outcome  string    `json:"outcome"`
	Beta     float64   `json:"beta"`
	Capacity float64   `json:"capacity,omitempty"`
	// Leads is the cohort (leads created in the period); SQLs and Won
	// count those of them that reached SQL or won a deal by now.
	Leads     int64          `json:"leads"`
	Events    int64          `json:"events"`
	SQLs      int64          `json:"sqls"`
	Won       int64          `json:"won"`
	Draft     ModelSweep     `json:"draft"`
	Active    *ModelSweep    `json:"active,omitempty"`
	Recommend Recommendation `json:"recommendation"`
	Changes   *Changes       `json:"changes,omitempty"`
	ElapsedMS int64          `json:"elapsed_ms"`
}

// ModelSweep is one model's figures at every threshold.
type ModelSweep struct {
	Name    string `json:"name"`
	Version int    `json:"version,omitempty"`
	// MQLThreshold is the model's own threshold (N in `mql: score >= N`).
	MQLThreshold *float64       `json:"mql_threshold,omitempty"`
	Rows         []ThresholdRow `json:"rows"`
}

// ThresholdRow is what a threshold would have done over the period.
type ThresholdRow struct {
	Threshold float64 `json:"threshold"`
	// MQLs counts cohort leads whose replayed score reached the threshold
	// before To; PerMonth divides by the period's months; ByMonth counts
	// them by the month of the crossing.
	MQLs     int64   `json:"mqls"`
	PerMonth float64 `json:"mqls_per_month"`
	ByMonth  []int64 `json:"by_month"`
	// BecameSQL and BecameCustomer count those MQLs that reached SQL (or
	// won a deal) by now; the precisions divide them by MQLs.
	BecameSQL         int64    `json:"became_sql"`
	BecameCustomer    int64    `json:"became_customer"`
	PrecisionSQL      *float64 `json:"precision_sql"`
	PrecisionCustomer *float64 `json:"precision_customer"`
	// CaughtSQL / CaughtWon count the cohort's SQLs / won deals whose
	// lead crossed the threshold at or before reaching SQL / before the
	// deal was won; the recalls divide them by all SQLs / won deals.
	CaughtSQL int64    `json:"caught_sql"`
	CaughtWon int64    `json:"caught_won"`
	RecallSQL *float64 `json:"recall_sql"`
	RecallWon *float64 `json:"recall_won"`
	// F is F-beta of the chosen outcome's precision and recall.
	F *float64 `json:"f"`
	// MedianMQLToSQLHours is the median time from the crossing to SQL, for
	// the MQLs that reached SQL after crossing.
	MedianMQLToSQLHours *float64 `json:"median_mql_to_sql_hours"`
}

// Recommendation picks thresholds for the draft.
type Recommendation struct {
	// Capacity: the lowest threshold whose MQLs per month fit the capacity.
	Capacity *Pick `json:"capacity,omitempty"`
	// MaxF: the threshold with the highest F-beta.
	MaxF *Pick `json:"max_f,omitempty"`
}

// Pick is one recommended threshold.
type Pick struct {
	Threshold float64  `json:"threshold"`
	PerMonth  float64  `json:"mqls_per_month"`
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
	F         *float64 `json:"f"`
	Note      string   `json:"note"`
}

// Changes compares the draft at one threshold with the active model at
// its own: the cohort leads that would become MQLs only under the draft
// (in) or only under the active model (out).
type Changes struct {
	DraftThreshold  float64 `json:"draft_threshold"`
	ActiveThreshold float64 `json:"active_threshold"`
	InCount         int64   `json:"in_count"`
	OutCount        int64   `json:"out_count"`
	InSQL           int64   `json:"in_sql"`
	InWon           int64   `json:"in_won"`
	OutSQL          int64   `json:"out_sql"`
	OutWon          int64   `json:"out_won"`
	In              []Move  `json:"in"`
	Out             []Move  `json:"out"`
}

// Move is one lead that changes side.
type Move struct {
	LeadID     int64   `json:"lead_id"`
	Email      string  `json:"email,omitempty"`
	Company    string  `json:"company,omitempty"`
	DraftPeak  float64 `json:"draft_peak"`
	ActivePeak float64 `json:"active_peak"`
	SQL        bool    `json:"sql"`
	Won        bool    `json:"won"`
}

// ParseThresholds reads "10:150:5" (from, to inclusive, step) or a comma
// list "30,50,70".
func ParseThresholds(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = "10:150:5"
	}
	bad := func(format string, args ...any) ([]float64, error) {
		return nil, leadflow.Invalidf("thresholds", format+` (write from:to:step such as 10:150:5, or a list such as 30,50,70)`, args...)
	}
	var out []float64
	if parts := strings.Split(s, ":"); len(parts) > 1 {
		if len(parts) != 3 {
			return bad("%q needs three parts", s)
		}
		var v [3]float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return bad("%q is not a number", p)
			}
			v[i] = f
		}
		if v[2] <= 0 || v[1] < v[0] {
			return bad("step must be positive and to at least from")
		}
		if (v[1]-v[0])/v[2] > 1000 {
			return bad("more than 1,000 thresholds")
		}
		for i := 0; ; i++ {
			t := v[0] + float64(i)*v[2]
			if t > v[1]+1e-9 {
				break
			}
			out = append(out, math.Round(t*1e6)/1e6)
		}
	} else {
		for _, p := range strings.Split(s, ",") {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return bad("%q is not a number", p)
			}
			out = append(out, f)
		}
		if len(out) > 1000 {
			return bad("more than 1,000 thresholds")
		}
	}
	return levelsOf(out), nil
}

func (o *BacktestOptions) defaults() error {
	if o.Loc == nil {
		o.Loc = time.UTC
	}
	if !o.To.After(o.From) {
		return leadflow.Invalidf("to", "the period must end after it starts")
	}
	if len(o.Thresholds) == 0 {
		o.Thresholds, _ = ParseThresholds("")
	}
	o.Thresholds = levelsOf(o.Thresholds)
	if o.Beta == 0 {
		o.Beta = 1
	}
	if o.Beta < 0 || math.IsNaN(o.Beta) || math.IsInf(o.Beta, 0) || o.Beta > 100 {
		return leadflow.Invalidf("beta", "beta must be a positive number (1 weighs precision and recall equally; 2 favours recall)")
	}
	if o.Capacity < 0 || math.IsNaN(o.Capacity) || math.IsInf(o.Capacity, 0) {
		return leadflow.Invalidf("capacity", "capacity (MQLs per month) must not be negative")
	}
	switch o.Outcome {
	case "":
		o.Outcome = OutcomeCustomer
	case OutcomeCustomer, OutcomeSQL:
	default:
		return leadflow.Invalidf("outcome", "unknown outcome %q; use customer or sql", o.Outcome)
	}
	if o.MoveLimit <= 0 {
		o.MoveLimit = 50
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 20_000
	}
	return nil
}

// Backtest replays the events of the leads created in the period through
// the draft model (and the active one, side by side) and reports, for
// each threshold, what it would have done. It writes nothing but the
// packing of the compact copy of events (store.PackEvents).
func Backtest(ctx context.Context, db *store.DB, draft BacktestModel, active *BacktestModel, o BacktestOptions) (*BacktestResult, error) {
	start := time.Now()
	if draft.Model == nil {
		return nil, leadflow.Invalidf("model", "a draft model is required")
	}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	p := Period{From: o.From, To: o.To, Loc: o.Loc, Interval: Month}
	res := &BacktestResult{From: o.From.UTC(), To: o.To.UTC(), TZ: o.Loc.String(), Months: p.Months(),
		Outcome: o.Outcome, Beta: o.Beta, Capacity: o.Capacity}
	months := p.Buckets()
	for _, b := range months {
		ms, me, _ := MonthSpan(b.Label, o.Loc)
		res.MonthLen += float64(b.To.Sub(b.From)) / float64(me.Sub(ms))
	}
	res.MonthLen = round(res.MonthLen, 4)

	models := []BacktestModel{draft}
	if active != nil && active.Model != nil {
		models = append(models, *active)
	}
	job := &backtestJob{db: db, o: o, models: models, months: months}
	if !o.EventsTable && compactCovers(models) {
		// The tail of the compact copy into the packs first, so the scan
		// reads about one row per lead (cheap when the tail is small).
		if _, err := db.PackEvents(ctx, store.PackOptions{}); err != nil {
			return nil, err
		}
	}
	for range models {
		job.levels = append(job.levels, levelsOf(o.Thresholds))
	}
	parts, err := job.run(ctx)
	if err != nil {
		return nil, err
	}
	total := merge(parts, len(models), len(o.Thresholds), len(months))
	res.Leads, res.Events, res.SQLs, res.Won = total.leads, total.events, total.sqls, total.won

	for mi, bm := range models {
		sw := ModelSweep{Name: bm.Name, Version: bm.Version}
		if t, ok := bm.Model.Thresholds()[leadflow.StageMQL]; ok {
			sw.MQLThreshold = ptr(t)
		}
		for ti, t := range o.Thresholds {
			sw.Rows = append(sw.Rows, total.row(mi, ti, t, res, o))
		}
		if mi == 0 {
			res.Draft = sw
		} else {
			res.Active = &sw
		}
	}
	res.Recommend = recommend(res.Draft.Rows, o)
	if res.Active != nil && res.Active.MQLThreshold != nil {
		at := o.CompareAt
		switch {
		case at != 0:
		case res.Draft.MQLThreshold != nil:
			at = *res.Draft.MQLThreshold
		case res.Recommend.MaxF != nil:
			at = res.Recommend.MaxF.Threshold
		default:
			at = *res.Active.MQLThreshold
		}
		ch, err := changes(ctx, db, total.peaks, at, *res.Active.MQLThreshold, o.MoveLimit)
		if err != nil {
			return nil, err
		}
		res.Changes = ch
	}
	res.ElapsedMS = time.Since(start).Milliseconds()
	return res, nil
}

// fBeta is (1+β²)·P·R / (β²·P + R).
func fBeta(p, r *float64, beta float64) *float64 {
	if p == nil || r == nil || (*p == 0 && *r == 0) {
		return nil
	}
	b2 := beta * beta
	return ptr(round((1+b2)**p**r/(b2**p+*r), 4))
}

func recommend(rows []ThresholdRow, o BacktestOptions) Recommendation {
	var rec Recommendation
	pick := func(r ThresholdRow, note string) *Pick {
		p := &Pick{Threshold: r.Threshold, PerMonth: r.PerMonth, F: r.F, Note: note}
		p.Precision, p.Recall = r.PrecisionCustomer, r.RecallWon
		if o.Outcome == OutcomeSQL {
			p.Precision, p.Recall = r.PrecisionSQL, r.RecallSQL
		}
		return p
	}
	if o.Capacity > 0 && len(rows) > 0 {
		for _, r := range rows {
			if r.PerMonth <= o.Capacity {
				rec.Capacity = pick(r, fmt.Sprintf("the lowest threshold that keeps MQLs within %g a month", o.Capacity))
				break
			}
		}
		if rec.Capacity == nil {
			last := rows[len(rows)-1]
			rec.Capacity = pick(last, fmt.Sprintf("no threshold tried keeps MQLs within %g a month; this is the highest tried", o.Capacity))
		}
	}
	best := -1
	for i, r := range rows {
		if r.F != nil && (best < 0 || *r.F > *rows[best].F) {
			best = i
		}
	}
	if best >= 0 {
		rec.MaxF = pick(rows[best], fmt.Sprintf("the highest F%g of %s precision and recall", o.Beta, o.Outcome))
	}
	return rec
}

// peak is one cohort lead's replayed peak score under each model.
type peak struct {
	id       int64
	scores   [2]float64
	sql, won bool
}

func changes(ctx context.Context, db *store.DB, peaks []peak, draftAt, activeAt float64, limit int) (*Changes, error) {
	ch := &Changes{DraftThreshold: draftAt, ActiveThreshold: activeAt, In: []Move{}, Out: []Move{}}
	var in, out []peak
	for _, p := range peaks {
		d, a := p.scores[0] >= draftAt, p.scores[1] >= activeAt
		switch {
		case d && !a:
			ch.InCount++
			ch.InSQL += b2i(p.sql)
			ch.InWon += b2i(p.won)
			in = append(in, p)
		case a && !d:
			ch.OutCount++
			ch.OutSQL += b2i(p.sql)
			ch.OutWon += b2i(p.won)
			out = append(out, p)
		}
	}
	// Leads with outcomes first: they are what the change gains or loses.
	order := func(ps []peak) {
		sort.SliceStable(ps, func(i, j int) bool {
			a, b := ps[i], ps[j]
			if a.won != b.won {
				return a.won
			}
			if a.sql != b.sql {
				return a.sql
			}
			da, db := math.Abs(a.scores[0]-a.scores[1]), math.Abs(b.scores[0]-b.scores[1])
			if da != db {
				return da > db
			}
			return a.id < b.id
		})
	}
	order(in)
	order(out)
	list := func(ps []peak) ([]Move, error) {
		ms := []Move{}
		for _, p := range ps[:min(limit, len(ps))] {
			m := Move{LeadID: p.id, DraftPeak: p.scores[0], ActivePeak: p.scores[1], SQL: p.sql, Won: p.won}
			if l, err := db.FindLead(ctx, p.id); err == nil {
				m.Email, m.Company = l.Email, l.Company
			} else if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
				return nil, err
			}
			ms = append(ms, m)
		}
		return ms, nil
	}
	var err error
	if ch.In, err = list(in); err != nil {
		return nil, err
	}
	if ch.Out, err = list(out); err != nil {
		return nil, err
	}
	return ch, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// decodeCache decodes event properties and context once per distinct
// text: page paths, asset ids and campaign maps repeat across millions of
// events. The maps it returns are shared and must not be modified (the
// scoring model only reads them).
type decodeCache struct {
	m map[string]map[string]any
}

const decodeCacheMax = 1 << 16

func (c *decodeCache) decode(raw []byte) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "{}" {
		return nil, nil
	}
	if v, ok := c.m[string(raw)]; ok {
		return v, nil
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if len(c.m) >= decodeCacheMax {
		clear(c.m)
	}
	c.m[string(raw)] = v
	return v, nil
}

// needs reports whether any model reads event fields under prefix.
func needs(models []BacktestModel, prefix string) bool {
	for _, m := range models {
		for _, f := range m.Model.EventFields() {
			if f == prefix || strings.HasPrefix(f, prefix+".") {
				return true
			}
		}
	}
	return false
}

// compactCovers reports whether every model reads only the event fields
// the compact copy holds.
func compactCovers(models []BacktestModel) bool {
	for _, m := range models {
		if !store.CompactCovers(m.Model.EventFields()) {
			return false
		}
	}
	return true
}
