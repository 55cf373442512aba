package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// kpi_recycles (migration 00016): the recycle and disqualification
// transitions of the leads in kpi_funnel, with each lead's breakdown
// values, so that KPIRecycles reads a period in time order from one
// covering index instead of looking up each transition's kpi_funnel row.
// The refresh rewrites a lead's rows in the transaction that rewrites its
// kpi_funnel row, from the same transitions; they are deleted with the
// kpi_funnel row (ON DELETE CASCADE: an erased or merged lead).

// recycleBatch is how many leads one statement rewrites. The insert reads
// transitions first (CROSS JOIN keeps SQLite from looking up every lead's
// kpi_funnel row), through transitions_recycles_lead (migration 00016).
const recycleBatch = 1000

const recycleDeleteSQL = `DELETE FROM kpi_recycles WHERE lead_id IN (%s)`

const recycleInsertSQL = `INSERT INTO kpi_recycles (lead_id, at, to_stage, from_stage, manual, reason, source, medium, campaign, industry, owner, team)
SELECT t.lead_id, t.at, t.to_stage, t.from_stage, CASE WHEN t.cause LIKE 'user:%%' OR t.cause LIKE 'api:%%' THEN 1 ELSE 0 END,
       t.reason, f.source, f.medium, f.campaign, f.industry, f.owner, f.team
FROM transitions t %s CROSS JOIN kpi_funnel f
WHERE f.lead_id = t.lead_id AND t.lead_id IN (%s) AND t.to_stage IN ('recycled', 'disqualified')`

// recycleIndex makes SQLite look the leads up in transitions_recycles_lead
// (it would rather walk every recycle of transitions_recycles per batch).
var recycleIndex = map[string]string{"sqlite": "INDEXED BY transitions_recycles_lead"}

// rewriteRecycles replaces the kpi_recycles rows of the leads ids (just
// rewritten in kpi_funnel) with their transitions now.
func (tx *Tx) rewriteRecycles(ctx context.Context, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), recycleBatch)
		ph := strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		for _, q := range []string{fmt.Sprintf(recycleDeleteSQL, ph),
			fmt.Sprintf(recycleInsertSQL, recycleIndex[tx.db.Dialect.Name], ph)} {
			if _, err := tx.ExecContext(ctx, tx.db.Dialect.Rebind(q), args...); err != nil {
				return wrapDB(err, "kpi recycles")
			}
		}
		ids = ids[n:]
	}
	return nil
}

// RecycleMismatches compares kpi_recycles with the recycle and
// disqualification transitions of the leads in kpi_funnel (for tests and
// checks): nil when they agree.
func (db *DB) RecycleMismatches(ctx context.Context) ([]string, error) {
	read := func(name string) ([]string, error) {
		rows, err := db.Read.QueryContext(ctx, db.q.get(name))
		if err != nil {
			return nil, wrapDB(err, "kpi recycles")
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, at, manual int64
			var v [9]string
			if err := rows.Scan(&id, &at, &v[0], &v[1], &manual, &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]); err != nil {
				return nil, wrapDB(err, "kpi recycles")
			}
			out = append(out, fmt.Sprintf("%d %d %d %q", id, at, manual, v))
		}
		slices.Sort(out)
		return out, wrapDB(rows.Err(), "kpi recycles")
	}
	want, err := read("KPIRecyclesLive")
	if err != nil {
		return nil, err
	}
	have, err := read("KPIRecyclesAll")
	if err != nil {
		return nil, err
	}
	if slices.Equal(want, have) {
		return nil, nil
	}
	return []string{fmt.Sprintf("kpi_recycles %v, want %v", have, want)}, nil
}
