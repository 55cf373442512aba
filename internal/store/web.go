package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// QueueItem is one lead of a rep's queue with its nearest SLA deadline
// and why it is in its stage.
type QueueItem struct {
	Lead leadflow.Lead
	// DueAt is the nearest deadline of the lead's open SLA clocks; zero
	// when none runs.
	DueAt time.Time
	// Why is the newest transition into the lead's stage (nil if none).
	Why *leadflow.Transition
}

// extraScan scans the lead columns and then extra columns.
type extraScan struct {
	r     rowScanner
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.r.Scan(append(dest, e.extra...)...) }

// Queue returns the open leads (mql, sal, sql, hql) of owner in working
// order: the nearest SLA deadline first (leads without a running clock
// after), then the further stage, then the higher score.
func (db *DB) Queue(ctx context.Context, owner string) ([]QueueItem, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("WebQueue"), owner)
	if err != nil {
		return nil, wrapDB(err, "queue")
	}
	defer rows.Close()
	out := []QueueItem{}
	for rows.Next() {
		var due sql.NullInt64
		l, err := scanLead(extraScan{rows, []any{&due}})
		if err != nil {
			return nil, err
		}
		it := QueueItem{Lead: *l}
		if due.Valid {
			it.DueAt = fromUS(due.Int64)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapDB(err, "queue")
	}
	slices.SortStableFunc(out, func(a, b QueueItem) int {
		if a.DueAt.IsZero() != b.DueAt.IsZero() {
			if a.DueAt.IsZero() {
				return 1
			}
			return -1
		}
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Lead.Stage.Rank(), a.Lead.Stage.Rank()); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Lead.Score, a.Lead.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Lead.ID, b.Lead.ID)
	})
	return out, db.fillWhy(ctx, out)
}

// fillWhy sets the newest transition into each lead's current stage.
func (db *DB) fillWhy(ctx context.Context, items []QueueItem) error {
	if len(items) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(items))
	ph := make([]string, len(items))
	args := make([]any, len(items))
	for i, it := range items {
		idx[it.Lead.ID], ph[i], args[i] = i, "?", it.Lead.ID
	}
	q := "SELECT lead_id, from_stage, to_stage, at, cause, reason, score FROM transitions WHERE lead_id IN (" +
		strings.Join(ph, ",") + ") ORDER BY lead_id, at, id"
	rows, err := db.Read.QueryContext(ctx, db.Dialect.Rebind(q), args...)
	if err != nil {
		return wrapDB(err, "queue transitions")
	}
	defer rows.Close()
	for rows.Next() {
		var t leadflow.Transition
		var from, to string
		var at int64
		if err := rows.Scan(&t.LeadID, &from, &to, &at, &t.Cause, &t.Reason, &t.Score); err != nil {
			return wrapDB(err, "queue transitions")
		}
		t.From, t.To, t.At = leadflow.Stage(from), leadflow.Stage(to), fromUS(at)
		it := &items[idx[t.LeadID]]
		if t.To == it.Lead.Stage {
			it.Why = &t
		}
	}
	return wrapDB(rows.Err(), "queue transitions")
}

// Funnel counts the leads created in [from, to) that reached each funnel
// stage by now (docs/kpis.md "Reaching a stage"): one count per
// leadflow.FunnelStages entry. It reads the KPI pre-aggregates, refreshed
// first.
func (db *DB) Funnel(ctx context.Context, from, to time.Time) ([]int64, error) {
	if err := refreshForDashboard(ctx, db, from, to); err != nil {
		return nil, err
	}
	return db.funnel(ctx, from, to)
}

// FunnelAndSources is Funnel and TopSources with one refresh (the
// dashboard).
func (db *DB) FunnelAndSources(ctx context.Context, from, to time.Time) ([]int64, []SourceCount, error) {
	if err := refreshForDashboard(ctx, db, from, to); err != nil {
		return nil, nil, err
	}
	counts, err := db.funnel(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	sources, err := db.topSources(ctx, from, to)
	return counts, sources, err
}

func refreshForDashboard(ctx context.Context, db *DB, from, to time.Time) error {
	if !to.After(from) {
		return leadflow.Invalidf("period", "empty period")
	}
	_, err := db.RefreshFunnel(ctx)
	return err
}

func (db *DB) funnel(ctx context.Context, from, to time.Time) ([]int64, error) {
	reached := make([]int64, len(leadflow.FunnelStages))
	err := db.readCohorts(ctx, wholeRange(from, to, ""), []int{0}, func(_ int, _ int64, _ string, v *aggVec) {
		for i := range reached {
			reached[i] += v[i]
		}
	})
	if err != nil {
		return nil, wrapDB(err, "funnel")
	}
	return reached, nil
}

// TrendPoint counts the leads that entered mql and sql in one bucket.
type TrendPoint struct {
	Start time.Time
	MQL   int64
	SQL   int64
}

// StageTrend counts entries into mql and sql in [from, to) per bucket of
// width step, every bucket present.
func (db *DB) StageTrend(ctx context.Context, from, to time.Time, step time.Duration) ([]TrendPoint, error) {
	w := step.Microseconds()
	if w <= 0 || !to.After(from) {
		return nil, leadflow.Invalidf("period", "empty period")
	}
	nb := int((us(to) - us(from) + w - 1) / w)
	out := make([]TrendPoint, nb)
	for i := range out {
		out[i].Start = from.Add(time.Duration(i) * step)
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("WebStageTrend"), us(from), w, us(from), us(to))
	if err != nil {
		return nil, wrapDB(err, "trend")
	}
	defer rows.Close()
	for rows.Next() {
		var b, c int64
		var stage string
		if err := rows.Scan(&b, &stage, &c); err != nil {
			return nil, wrapDB(err, "trend")
		}
		if b < 0 || int(b) >= nb {
			continue
		}
		if stage == string(leadflow.StageMQL) {
			out[b].MQL += c
		} else {
			out[b].SQL += c
		}
	}
	return out, wrapDB(rows.Err(), "trend")
}

// SLAStatus counts the open SLA clocks as of now.
type SLAStatus struct {
	AtRisk   int64 // running and past the warning time
	Breached int64 // breached and not met yet
	Running  int64
}

// SLAStatusNow counts open SLA clocks at risk and breached as of now.
func (db *DB) SLAStatusNow(ctx context.Context, now time.Time) (SLAStatus, error) {
	var s SLAStatus
	err := db.queryRow(ctx, "WebSLAStatus", us(now)).Scan(&s.AtRisk, &s.Breached, &s.Running)
	return s, wrapDB(err, "sla status")
}

// SourceCount is how many leads one source brought in a period and how
// many of them are qualified now.
type SourceCount struct {
	Source    string
	Leads     int64
	Qualified int64
}

// TopSources lists the sources of the leads created in [from, to), the
// biggest first (at most 8), with how many are in mql or a later stage
// now, from the KPI pre-aggregates (refreshed first).
func (db *DB) TopSources(ctx context.Context, from, to time.Time) ([]SourceCount, error) {
	if err := refreshForDashboard(ctx, db, from, to); err != nil {
		return nil, err
	}
	return db.topSources(ctx, from, to)
}

func (db *DB) topSources(ctx context.Context, from, to time.Time) ([]SourceCount, error) {
	by := map[string]*SourceCount{}
	err := db.readCohorts(ctx, wholeRange(from, to, "source"), []int{0}, func(_ int, _ int64, src string, v *aggVec) {
		s := by[src]
		if s == nil {
			s = &SourceCount{Source: src}
			by[src] = s
		}
		s.Leads += v[0]
		s.Qualified += v[8]
	})
	if err != nil {
		return nil, wrapDB(err, "top sources")
	}
	out := []SourceCount{}
	for _, s := range by {
		if s.Leads > 0 {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b SourceCount) int {
		return cmp.Or(cmp.Compare(b.Leads, a.Leads), strings.Compare(a.Source, b.Source))
	})
	return out[:min(len(out), 8)], nil
}

// FilterValues are the values the lead list offers in its filters.
type FilterValues struct {
	Sources, Campaigns, Industries, Teams []string
}

// LeadFilterValues reads the distinct sources, campaigns, industries
// (the first 200 of each, in order) and teams, straight from indexes: no
// cache, a new source is in the menu at once.
func (db *DB) LeadFilterValues(ctx context.Context) (*FilterValues, error) {
	fv := &FilterValues{}
	for _, q := range []struct {
		name string
		dst  *[]string
	}{{"WebSources", &fv.Sources}, {"WebCampaigns", &fv.Campaigns}, {"WebIndustries", &fv.Industries}, {"WebTeams", &fv.Teams}} {
		rows, err := db.Read.QueryContext(ctx, db.q.get(q.name))
		if err != nil {
			return nil, wrapDB(err, q.name)
		}
		*q.dst = []string{}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, wrapDB(err, q.name)
			}
			*q.dst = append(*q.dst, v)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, wrapDB(err, q.name)
		}
	}
	return fv, nil
}
