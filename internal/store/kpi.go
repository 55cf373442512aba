package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// KPI storage: kpi_funnel (one row per lead: when it first reached each
// stage, with its breakdown attributes), campaign costs, monthly targets,
// and the aggregate reads internal/analytics turns into KPIs. The SQL is in
// queries/kpi.sql.

// funnelRefreshSQL rebuilds the kpi_funnel rows of the leads changed since
// a watermark. It is the one KPI statement with a dialect difference (the
// first-touch medium is read from JSON text), so it lives here rather than
// in queries/kpi.sql, whose statements are all prepared on both databases.
// %[2]s is "+" for a refresh in one chunk (see KPIFunnelRowsChangedFew);
// %[3]s joins each lead's transitions (funnelTransitionsJoin).
// A stage reached without a recorded transition (a lead imported or loaded
// in its stage) counts from the lead's stage_at. Only the stale leads are
// rewritten (see KPILeadsChanged: the parameters are since, lo, hi and the
// previous refresh's start), and the new rows are returned for the
// aggregates.
const funnelRefreshSQL = `INSERT INTO kpi_funnel (lead_id, created_at, source, medium, campaign, industry, owner, team, score,
    mql_at, sal_at, sql_at, hql_at, opp_at, won_at, recycled, qualified, lead_updated_at)
SELECT l.id, l.created_at, l.source, coalesce(%[1]s, ''), l.campaign, l.industry, l.owner, l.team, l.score,
    coalesce(t.mql_at, CASE WHEN l.stage IN ('mql', 'sal', 'sql', 'hql', 'opportunity', 'customer') THEN l.stage_at END),
    coalesce(t.sal_at, CASE WHEN l.stage IN ('sal', 'sql', 'hql', 'opportunity', 'customer') THEN l.stage_at END),
    coalesce(t.sql_at, CASE WHEN l.stage IN ('sql', 'hql', 'opportunity', 'customer') THEN l.stage_at END),
    coalesce(t.hql_at, CASE WHEN l.stage IN ('hql', 'opportunity', 'customer') THEN l.stage_at END),
    coalesce(t.opp_at, CASE WHEN l.stage IN ('opportunity', 'customer') THEN l.stage_at END),
    coalesce(t.won_at, CASE WHEN l.stage = 'customer' THEN l.stage_at END),
    coalesce(t.recycled, CASE WHEN l.stage = 'recycled' THEN 1 ELSE 0 END),
    CASE WHEN l.stage IN ('mql', 'sal', 'sql', 'hql', 'opportunity', 'customer') THEN 1 ELSE 0 END, l.updated_at
FROM leads l LEFT JOIN kpi_funnel f0 ON f0.lead_id = l.id %[3]s
WHERE l.updated_at > ? AND %[2]sl.id > ? AND %[2]sl.id <= ?
    AND CASE WHEN l.updated_at >= ? OR f0.lead_id IS NULL OR f0.lead_updated_at <> l.updated_at
        THEN l.erased_at IS NULL ELSE false END
ON CONFLICT (lead_id) DO UPDATE SET created_at = excluded.created_at, source = excluded.source,
    medium = excluded.medium, campaign = excluded.campaign, industry = excluded.industry,
    owner = excluded.owner, team = excluded.team, score = excluded.score, mql_at = excluded.mql_at,
    sal_at = excluded.sal_at, sql_at = excluded.sql_at, hql_at = excluded.hql_at,
    opp_at = excluded.opp_at, won_at = excluded.won_at, recycled = excluded.recycled,
    qualified = excluded.qualified, lead_updated_at = excluded.lead_updated_at
RETURNING lead_id, created_at, source, medium, campaign, industry, owner, team, score,
    mql_at, sal_at, sql_at, hql_at, opp_at, won_at, recycled, qualified`

// funnelTransitionAggs are when a lead's transitions first reached each
// stage (or a later one) and how often it was recycled.
const funnelTransitionAggs = `min(CASE WHEN tr.to_stage IN ('mql', 'sal', 'sql', 'hql', 'opportunity', 'customer') THEN tr.at END) AS mql_at,
        min(CASE WHEN tr.to_stage IN ('sal', 'sql', 'hql', 'opportunity', 'customer') THEN tr.at END) AS sal_at,
        min(CASE WHEN tr.to_stage IN ('sql', 'hql', 'opportunity', 'customer') THEN tr.at END) AS sql_at,
        min(CASE WHEN tr.to_stage IN ('hql', 'opportunity', 'customer') THEN tr.at END) AS hql_at,
        min(CASE WHEN tr.to_stage IN ('opportunity', 'customer') THEN tr.at END) AS opp_at,
        min(CASE WHEN tr.to_stage = 'customer' THEN tr.at END) AS won_at,
        sum(CASE WHEN tr.to_stage = 'recycled' THEN 1 ELSE 0 END) AS recycled`

// funnelTransitionsJoin joins the refreshed leads' transitions: SQLite
// aggregates those of the stale leads once (four parameters: since, lo,
// hi and the previous refresh's start, as in KPILeadsChanged; erased
// leads are left to the outer query); PostgreSQL per lead through
// transitions_lead (LATERAL), as its statistics, taken before a burst of
// changes, make it expect one changed lead and rescan a joined aggregate
// once per lead (50,000 leads: minutes).
var funnelTransitionsJoin = map[string]string{
	"sqlite": `LEFT JOIN (
    SELECT tr.lead_id, ` + funnelTransitionAggs + `
    FROM transitions tr
    WHERE tr.lead_id IN (SELECT l2.id FROM leads l2 LEFT JOIN kpi_funnel f2 ON f2.lead_id = l2.id
        WHERE l2.updated_at > ? AND %[2]sl2.id > ? AND %[2]sl2.id <= ?
            AND (l2.updated_at >= ? OR f2.lead_id IS NULL OR f2.lead_updated_at <> l2.updated_at))
    GROUP BY tr.lead_id) t ON t.lead_id = l.id`,
	"postgres": `LEFT JOIN LATERAL (
    SELECT ` + funnelTransitionAggs + `
    FROM transitions tr WHERE tr.lead_id = l.id) t ON true`,
}

// funnelMediumExpr reads first_touch.medium in each dialect.
var funnelMediumExpr = map[string]string{
	"sqlite":   `l.first_touch ->> 'medium'`,
	"postgres": `(l.first_touch::jsonb ->> 'medium')`,
}

// Refresh tuning: leads changed within funnelMargin before the last
// watermark are looked at again, so that a transaction that committed late
// with an older updated_at is not missed; of those, only the ones whose
// updated_at differs from the one their kpi_funnel row was built from
// (kpi_funnel.lead_updated_at) are refreshed again. A
// large refresh (a first run, a full rescore) goes in id ranges of
// funnelChunk leads, one transaction each, so it never holds SQLite's
// write lock for long.
const (
	funnelMargin = 10 * time.Minute
	funnelChunk  = 50_000
	funnelKey    = "funnel.updated_at"
	// funnelReadKey is when the last refresh started (the store's clock):
	// a transaction that committed after it, with an updated_at before the
	// watermark, started at most funnelMargin before it.
	funnelReadKey = "funnel.refreshed_at"
	// funnelQuiet: a refresh that finds nothing within this long of the
	// last one leaves the watermarks alone.
	funnelQuiet = 10 * time.Second
)

// RefreshFunnel brings kpi_funnel up to date with the leads changed since
// the last refresh (their transitions, stage, score and attributes) and
// returns how many leads it refreshed (those of the updated_at window whose
// kpi_funnel row is stale). Every KPI read calls it first; it is
// cheap when little changed.
func (db *DB) RefreshFunnel(ctx context.Context) (int64, error) {
	var mark int64
	err := db.Write.QueryRowContext(ctx, db.q.get("KPIStateGet"), funnelKey).Scan(&mark)
	if err != nil && err != sql.ErrNoRows {
		return 0, wrapDB(err, "kpi watermark")
	}
	// Late commits have an updated_at after (last refresh − margin), and
	// new changes one after the watermark: refreshing from the earlier of
	// the two catches both, without refreshing a burst of changes (a bulk
	// rescore) again on every read once the margin has passed.
	var readAt int64
	err = db.Write.QueryRowContext(ctx, db.q.get("KPIStateGet"), funnelReadKey).Scan(&readAt)
	if err != nil && err != sql.ErrNoRows {
		return 0, wrapDB(err, "kpi watermark")
	}
	since := mark - funnelMargin.Microseconds()
	if readAt != 0 {
		since = min(mark, readAt-funnelMargin.Microseconds())
	}
	if mark == 0 {
		since = -1
	}
	start := us(db.Now())
	var n, maxUpdated, maxID, minUpdated, minID int64
	// A lead changed at or after the previous refresh's start is stale even
	// with the updated_at of its row (a change in the same clock tick).
	fresh := readAt
	if mark == 0 {
		fresh = -1
	}
	if err := db.Write.QueryRowContext(ctx, db.q.get("KPILeadsChanged"), since, fresh).Scan(&n, &maxUpdated, &maxID, &minUpdated, &minID); err != nil {
		return 0, wrapDB(err, "kpi changed leads")
	}
	if n == 0 {
		if err := db.refreshGone(ctx); err != nil {
			return 0, err
		}
		if err := db.buildAgg(ctx); err != nil {
			return 0, err
		}
		// Nothing changed: a read shortly after the last refresh need not
		// move the margin (refreshing from an older time is only slower),
		// so that back-to-back reads do not write.
		if start-readAt < funnelQuiet.Microseconds() && readAt <= start {
			return 0, nil
		}
		_, err := db.Write.ExecContext(ctx, db.q.get("KPIStateSet"), funnelReadKey, start)
		return 0, wrapDB(err, "kpi watermark")
	}
	// The statements below look at the leads changed after from with an
	// id above minID-1 (the same stale leads): a few leads changed after a
	// burst are found without walking the burst again.
	from := max(since, minUpdated-1)
	step := maxID
	if n > funnelChunk {
		step = funnelChunk
	}
	// In one chunk, the changed leads are found by leads_updated; in
	// chunks, by id range (see KPIFunnelRowsChangedFew).
	few := step == maxID
	plus := map[bool]string{true: "+"}[few]
	join := strings.ReplaceAll(funnelTransitionsJoin[db.Dialect.Name], "%[2]s", plus)
	q := db.Dialect.Rebind(fmt.Sprintf(funnelRefreshSQL, funnelMediumExpr[db.Dialect.Name], plus, join))
	joinArgs := strings.Count(join, "?") > 0
	for lo := minID - 1; lo < maxID; lo += step {
		hi := min(lo+step, maxID)
		last := hi == maxID
		err := db.InTx(ctx, func(tx *Tx) error {
			if err := tx.refreshChunk(ctx, q, joinArgs, few, from, fresh, lo, hi); err != nil {
				return err
			}
			if last {
				if _, err := tx.exec(ctx, "KPIStateSet", funnelKey, max(maxUpdated, mark)); err != nil {
					return err
				}
				_, err := tx.exec(ctx, "KPIStateSet", funnelReadKey, start)
				return err
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	// The first refresh after migration 00014 builds the aggregates.
	if err := db.buildAgg(ctx); err != nil {
		return 0, err
	}
	return n, nil
}

// KPIRange is what every KPI read takes: the period [From, To), how to cut
// it into buckets, and the breakdown.
type KPIRange struct {
	From, To time.Time
	// Offset and Granularity (microseconds) make a row's bucket unit
	// (t + Offset) / Granularity, e.g. local days of a fixed-offset zone.
	Offset, Granularity int64
	// Group is the breakdown column: source, medium, campaign, industry,
	// owner, team, or "" for none.
	Group string
	// Cuts are the bucket starts inside the period: the aggregates are
	// read in whole hours and days between them. nil: every unit boundary.
	Cuts []time.Time
}

// GroupColumns are the breakdowns KPI reads accept.
var GroupColumns = []string{"source", "medium", "campaign", "industry", "owner", "team"}

func (r KPIRange) check() error {
	if !r.To.After(r.From) {
		return leadflow.Invalidf("to", "the period must end after it starts")
	}
	if r.Granularity <= 0 {
		return leadflow.Invalidf("interval", "bucket granularity must be positive")
	}
	if r.Group != "" {
		ok := false
		for _, g := range GroupColumns {
			ok = ok || g == r.Group
		}
		if !ok {
			return leadflow.Invalidf("group_by", "unknown breakdown %q; use one of %s", r.Group, strings.Join(GroupColumns, ", "))
		}
	}
	return nil
}

// head returns the bucket and group arguments every KPI read starts with.
func (r KPIRange) head() []any { return []any{r.Offset, r.Granularity, r.Group} }

func (r KPIRange) period() []any { return []any{us(r.From), us(r.To)} }

// FunnelStages are the stages of KPIStageCohorts rows, in funnel order
// ("lead" is the lead's creation, "customer" a won deal).
var FunnelStages = []string{"lead", "mql", "sal", "sql", "hql", "opportunity", "customer"}

// CohortRow counts the leads that first reached Stage in one bucket and
// group, and how many of them reached each funnel stage by now.
type CohortRow struct {
	Stage string
	Unit  int64
	Group string
	N     int64
	// Reached[i] counts those that reached FunnelStages[i] (i >= 1) by now.
	Reached [7]int64
	// Recycled counts those recycled at least once.
	Recycled int64
	// Qualified counts those whose current stage is mql or beyond.
	Qualified int64
	// Zero counts those that reached Stage together with the stage before
	// (at the same time or, for a stage set without a transition,
	// earlier): their velocity is 0, and KPIDurations with skipZero leaves
	// them out.
	Zero int64
}

// DurationRow is one lead's duration for a KPI: Micros is the time from
// the stage before Stage to Stage (velocity), or to the first touch.
type DurationRow struct {
	Stage  string
	Unit   int64
	Group  string
	Micros int64
	// Valid is false when there is no end yet (an MQL not touched).
	Valid bool
}

// KPIVelocity calls fn for every lead that first reached a stage in the
// period, with the time it took from the stage before. Each stage is one
// read of its covering index (migration 00014), in time order; without a
// breakdown the group column is left out.
func (db *DB) KPIVelocity(ctx context.Context, r KPIRange, fn func(DurationRow)) error {
	return db.KPIDurations(ctx, r, fn, nil, false)
}

// KPIFirstTouch calls fn for every MQL of the period with the time from
// reaching MQL to its first sales touch (Valid false: none yet).
func (db *DB) KPIFirstTouch(ctx context.Context, r KPIRange, fn func(DurationRow)) error {
	return db.KPIDurations(ctx, r, nil, fn, false)
}

// KPIDurations makes the reads of KPIVelocity (velocity not nil) and
// KPIFirstTouch (touch not nil); with both, the MQLs of the period are
// read once for the two. With skipZero, velocity is called only for the
// leads that took time (Micros > 0): the others are CohortRow.Zero, and
// their index entries are skipped in the database.
func (db *DB) KPIDurations(ctx context.Context, r KPIRange, velocity, touch func(DurationRow), skipZero bool) error {
	if err := r.check(); err != nil {
		return err
	}
	if velocity == nil && touch == nil {
		return nil
	}
	groups := map[string]string{}
	intern := func(b []byte) string {
		g, ok := groups[string(b)]
		if !ok {
			g = string(b)
			groups[g] = g
		}
		return g
	}
	first := 1
	if touch != nil {
		// The MQLs: velocity lead→mql and first touch in one read.
		name, args := "KPIMQLDurations", []any{r.Offset, r.Granularity, r.Group, us(r.From), us(r.To)}
		if r.Group == "" {
			name, args = "KPIMQLDurationsAll", []any{r.Offset, r.Granularity, us(r.From), us(r.To)}
		}
		q, args := db.namedGroup(db.q.get(name), args, r.Group)
		rows, err := db.Read.QueryContext(ctx, q, args...)
		if err != nil {
			return wrapDB(err, "kpi first touch")
		}
		v := DurationRow{Stage: FunnelStages[1], Valid: true}
		t := DurationRow{Stage: "first_touch"}
		var group sql.RawBytes
		var tt sql.NullInt64
		dest := []any{&v.Unit, &group, &v.Micros, &tt}
		if r.Group == "" {
			dest = []any{&v.Unit, &v.Micros, &tt}
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return wrapDB(err, "kpi first touch")
			}
			if r.Group != "" {
				v.Group = intern(group)
			}
			if velocity != nil && (v.Micros > 0 || !skipZero) {
				velocity(v)
			}
			t.Unit, t.Group, t.Micros, t.Valid = v.Unit, v.Group, tt.Int64, tt.Valid
			touch(t)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return wrapDB(err, "kpi first touch")
		}
		first = 2
	}
	if velocity == nil {
		return nil
	}
	name, args := "KPIVelocityStage", []any{r.Offset, r.Granularity, r.Group, us(r.From), us(r.To)}
	if r.Group == "" {
		name, args = "KPIVelocityStageAll", []any{r.Offset, r.Granularity, us(r.From), us(r.To)}
	}
	if skipZero {
		name += "Pos"
	}
	tmpl, args := db.namedGroup(db.q.get(name), args, r.Group)
	var d DurationRow
	var group sql.RawBytes
	dest := []any{&d.Unit, &group, &d.Micros}
	if r.Group == "" {
		dest = []any{&d.Unit, &d.Micros}
	}
	for i := first; i < len(FunnelStages); i++ {
		q := strings.NewReplacer("mql_at", stageCols[i], "created_at", stageCols[i-1]).Replace(tmpl)
		rows, err := db.Read.QueryContext(ctx, q, args...)
		if err != nil {
			return wrapDB(err, "kpi velocity")
		}
		d.Stage, d.Valid = FunnelStages[i], true
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return wrapDB(err, "kpi velocity")
			}
			if r.Group != "" {
				d.Group = intern(group)
			}
			velocity(d)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return wrapDB(err, "kpi velocity")
		}
	}
	return nil
}

// groupCase is the breakdown expression of the KPI reads (its ? is the
// third parameter, the group).
var groupCase = regexp.MustCompile(`CASE \? WHEN 'source' THEN (f\.)?source WHEN 'medium' THEN (?:f\.)?medium WHEN 'campaign' THEN (?:f\.)?campaign WHEN 'industry' THEN (?:f\.)?industry WHEN 'owner' THEN (?:f\.)?owner WHEN 'team' THEN (?:f\.)?team ELSE '' END`)

// namedGroup names the breakdown column in a per-row read on SQLite,
// instead of the CASE on a parameter it evaluates for every row, and
// drops the group parameter (args[2]). group is one of GroupColumns
// (KPIRange.check). PostgreSQL's numbered parameters stay as they are.
func (db *DB) namedGroup(q string, args []any, group string) (string, []any) {
	if db.Dialect.Name != "sqlite" || group == "" || !groupCase.MatchString(q) {
		return q, args
	}
	q = groupCase.ReplaceAllString(q, "${1}"+group)
	return q, append(append([]any{}, args[:2]...), args[3:]...)
}

// internKPI copies a scanned name out of the driver's buffer.
func internKPI(b []byte) string { return string(b) }

// SLARow counts the SLA clocks of one bucket, group, policy and status.
type SLARow struct {
	Unit   int64
	Group  string
	Policy string
	Status string
	N      int64
}

// KPISLA counts the SLA clocks started in the period by outcome, counting
// running clocks past their deadline at now as breached.
func (db *DB) KPISLA(ctx context.Context, r KPIRange, now time.Time) ([]SLARow, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	args := append(append(r.head(), us(now)), r.period()...)
	name := "KPISLA"
	if r.Group == "" || r.Group == "owner" {
		name = "KPISLAClocks" // nothing of the lead's
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get(name), args...)
	if err != nil {
		return nil, wrapDB(err, "kpi sla")
	}
	defer rows.Close()
	var out []SLARow
	for rows.Next() {
		var s SLARow
		if err := rows.Scan(&s.Unit, &s.Group, &s.Policy, &s.Status, &s.N); err != nil {
			return nil, wrapDB(err, "kpi sla")
		}
		out = append(out, s)
	}
	return out, wrapDB(rows.Err(), "kpi sla")
}

// RecycleRow counts recycles and disqualifications with the same reason.
type RecycleRow struct {
	Unit   int64
	Group  string
	To     string // recycled or disqualified
	From   string
	Manual bool // by a person or API client: a rejection
	Reason string
	N      int64
}

// KPIRecycles counts the recycles and disqualifications of a period.
func (db *DB) KPIRecycles(ctx context.Context, r KPIRange) ([]RecycleRow, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("KPIRecycles"), append(r.head(), r.period()...)...)
	if err != nil {
		return nil, wrapDB(err, "kpi recycles")
	}
	defer rows.Close()
	var out []RecycleRow
	for rows.Next() {
		var x RecycleRow
		var manual int64
		if err := rows.Scan(&x.Unit, &x.Group, &x.To, &x.From, &manual, &x.Reason, &x.N); err != nil {
			return nil, wrapDB(err, "kpi recycles")
		}
		x.Manual = manual == 1
		out = append(out, x)
	}
	return out, wrapDB(rows.Err(), "kpi recycles")
}

// ScoreBinRow counts the leads of a group whose current score is in
// [Bin×10, Bin×10+10).
type ScoreBinRow struct {
	Group string
	Bin   int
	N     int64
}

// WonRow sums the won deals of one bucket, group and currency.
type WonRow struct {
	Unit     int64
	Group    string
	Currency string
	Deals    int64
	Amount   float64
}

// KPIWon sums the deals won in the period.
func (db *DB) KPIWon(ctx context.Context, r KPIRange) ([]WonRow, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("KPIWon"), append(r.head(), r.period()...)...)
	if err != nil {
		return nil, wrapDB(err, "kpi won")
	}
	defer rows.Close()
	var out []WonRow
	for rows.Next() {
		var x WonRow
		if err := rows.Scan(&x.Unit, &x.Group, &x.Currency, &x.Deals, &x.Amount); err != nil {
			return nil, wrapDB(err, "kpi won")
		}
		out = append(out, x)
	}
	return out, wrapDB(rows.Err(), "kpi won")
}
