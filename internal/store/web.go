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

// Funnel counts the leads created in [from, to) by the furthest funnel
// stage each reached: the result has one count per leadflow.FunnelStages
// entry, each the number of leads that reached that stage or beyond.
func (db *DB) Funnel(ctx context.Context, from, to time.Time) ([]int64, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("WebFunnel"), us(from), us(to))
	if err != nil {
		return nil, wrapDB(err, "funnel")
	}
	defer rows.Close()
	n := len(leadflow.FunnelStages)
	at := make([]int64, n)
	for rows.Next() {
		var r, c int64
		if err := rows.Scan(&r, &c); err != nil {
			return nil, wrapDB(err, "funnel")
		}
		if r >= 0 && int(r) < n {
			at[r] += c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapDB(err, "funnel")
	}
	reached := make([]int64, n)
	var sum int64
	for i := n - 1; i >= 0; i-- {
		sum += at[i]
		reached[i] = sum
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
// biggest first (at most 8).
func (db *DB) TopSources(ctx context.Context, from, to time.Time) ([]SourceCount, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("WebTopSources"), us(from), us(to))
	if err != nil {
		return nil, wrapDB(err, "top sources")
	}
	defer rows.Close()
	out := []SourceCount{}
	for rows.Next() {
		var s SourceCount
		if err := rows.Scan(&s.Source, &s.Leads, &s.Qualified); err != nil {
			return nil, wrapDB(err, "top sources")
		}
		out = append(out, s)
	}
	return out, wrapDB(rows.Err(), "top sources")
}

// FilterValues are the values the lead list offers in its filters.
type FilterValues struct {
	Sources, Campaigns, Industries, Teams []string
}

// LeadFilterValues reads the distinct sources, campaigns, industries and
// teams.
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
