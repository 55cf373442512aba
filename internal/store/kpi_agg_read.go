package store

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Reads of the KPI pre-aggregates (see kpi_agg.go): a period is cut at its
// bucket starts into segments; each segment's whole UTC days come from the
// day rows, its whole hours from the hour rows, and what is left (less
// than an hour at either end: a bucket starting at 09:30 UTC, a period
// ending now) from kpi_funnel itself.

// aggPlan says where each piece of a period is read from.
type aggPlan struct {
	raw   [][2]int64 // [lo, hi) in µs, read from kpi_funnel
	hours [][2]int64 // [lo, hi) in hours since the epoch, kpi_agg lvl 1
	days  [][2]int64 // [lo, hi) in days since the epoch, kpi_agg lvl 2
}

func appendRange(rs [][2]int64, lo, hi int64) [][2]int64 {
	if lo >= hi {
		return rs
	}
	if n := len(rs); n > 0 && rs[n-1][1] == lo {
		rs[n-1][1] = hi
		return rs
	}
	return append(rs, [2]int64{lo, hi})
}

func floorTo(t, d int64) int64 { return floorDiv(t, d) * d }
func ceilTo(t, d int64) int64  { return -floorDiv(-t, d) * d }

// planAgg plans [from, to) cut at cuts (ascending); without hours, only
// whole days come from the aggregates (the score bins have no hour rows).
func planAgg(from, to int64, cuts []int64, hours bool) aggPlan {
	bounds := []int64{from}
	for _, c := range cuts {
		if c > bounds[len(bounds)-1] && c < to {
			bounds = append(bounds, c)
		}
	}
	bounds = append(bounds, to)
	fine := hourMicros
	if !hours {
		fine = aggDayUS
	}
	var p aggPlan
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		fa, fb := ceilTo(a, fine), floorTo(b, fine)
		if fa >= fb {
			p.raw = appendRange(p.raw, a, b)
			continue
		}
		p.raw = appendRange(p.raw, a, fa)
		da, db := ceilTo(fa, aggDayUS), floorTo(fb, aggDayUS)
		if da >= db {
			p.hours = appendRange(p.hours, fa/hourMicros, fb/hourMicros)
		} else {
			p.hours = appendRange(p.hours, fa/hourMicros, da/hourMicros)
			p.days = appendRange(p.days, da/aggDayUS, db/aggDayUS)
			p.hours = appendRange(p.hours, db/hourMicros, fb/hourMicros)
		}
		p.raw = appendRange(p.raw, fb, b)
	}
	return p
}

// maxCuts bounds the unit boundaries a range without Cuts is cut at;
// beyond it the read goes to kpi_funnel as a whole.
const maxCuts = 20_000

// cuts are the times a read must not merge across: the bucket starts, or
// every unit boundary when the caller did not say (nil: read kpi_funnel).
func (r KPIRange) cuts() ([]int64, bool) {
	if r.Cuts != nil {
		out := make([]int64, len(r.Cuts))
		for i, c := range r.Cuts {
			out[i] = us(c)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out, true
	}
	from, to := us(r.From), us(r.To)
	first := ceilTo(from+r.Offset, r.Granularity) - r.Offset
	if first >= to {
		return []int64{}, true
	}
	if (to-first)/r.Granularity > maxCuts {
		return nil, false
	}
	var out []int64
	for c := first; c < to; c += r.Granularity {
		out = append(out, c)
	}
	return out, true
}

func dimOf(group string) int8 {
	for i, g := range GroupColumns {
		if g == group {
			return int8(i + 1)
		}
	}
	return 0
}

// stageCols are the kpi_funnel columns of FunnelStages.
var stageCols = []string{"created_at", "mql_at", "sal_at", "sql_at", "hql_at", "opp_at", "won_at"}

// stageCohortSQL is KPIStageCohort (written for "lead") for each of
// stages, as one UNION ALL (PostgreSQL's numbered parameters renumbered).
func (db *DB) stageCohortSQL(stages []int) string {
	tmpl := db.q.get("KPIStageCohort")
	parts := make([]string, len(stages))
	for i, s := range stages {
		q := strings.NewReplacer("created_at", stageCols[s], "'lead'", "'"+FunnelStages[s]+"'").Replace(tmpl)
		parts[i] = pgParam.ReplaceAllStringFunc(q, func(p string) string {
			n, _ := strconv.Atoi(p[1:])
			return "$" + strconv.Itoa(n+i*kpiCohortParams)
		})
	}
	return strings.Join(parts, "\nUNION ALL\n")
}

// kpiCohortParams is the number of parameters of KPIStageCohort.
const kpiCohortParams = 5

var pgParam = regexp.MustCompile(`\$[0-9]+`)

// readCohorts calls fn with the cohort counts of stages in r (several
// calls may share a stage, unit and group: the caller adds them up).
func (db *DB) readCohorts(ctx context.Context, r KPIRange, stages []int, fn func(stage int, unit int64, group string, v *aggVec)) error {
	cuts, ok := r.cuts()
	p := aggPlan{raw: [][2]int64{{us(r.From), us(r.To)}}}
	if ok {
		p = planAgg(us(r.From), us(r.To), cuts, true)
	}
	if len(p.raw) > 0 {
		q := db.stageCohortSQL(stages)
		for _, rg := range p.raw {
			var args []any
			for range stages {
				args = append(args, r.Offset, r.Granularity, r.Group, rg[0], rg[1])
			}
			if err := db.rawCohorts(ctx, q, args, fn); err != nil {
				return err
			}
		}
	}
	want := [7]bool{}
	for _, s := range stages {
		want[s] = true
	}
	dim := dimOf(r.Group)
	row := func(lvl int8, keep func(int64) bool) func(int, int64, string, *aggVec) {
		return func(stage int, unit int64, val string, v *aggVec) {
			if want[stage] && keep(unit) {
				fn(stage, floorDiv(unit*aggLevelSize[lvl]+r.Offset, r.Granularity), val, v)
			}
		}
	}
	all := func(int64) bool { return true }
	for _, h := range p.hours {
		if err := db.aggRows(ctx, 1, dim, h[0], h[1], stages, row(1, all)); err != nil {
			return err
		}
	}
	if len(p.days) > 0 {
		// One read over the days of the whole period; a day cut by a bucket
		// start came from the hour rows.
		days := p.days
		in := func(u int64) bool {
			i := sort.Search(len(days), func(i int) bool { return days[i][1] > u })
			return i < len(days) && days[i][0] <= u
		}
		if err := db.aggRows(ctx, 2, dim, days[0][0], days[len(days)-1][1], stages, row(2, in)); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) rawCohorts(ctx context.Context, q string, args []any, fn func(int, int64, string, *aggVec)) error {
	rows, err := db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return wrapDB(err, "kpi cohorts")
	}
	defer rows.Close()
	var stage, group []byte
	var unit int64
	var v aggVec
	for rows.Next() {
		if err := rows.Scan(&stage, &unit, &group, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]); err != nil {
			return wrapDB(err, "kpi cohorts")
		}
		fn(stageIndexOf(string(stage)), unit, string(group), &v)
	}
	return wrapDB(rows.Err(), "kpi cohorts")
}

func stageIndexOf(s string) int {
	for i, x := range FunnelStages {
		if x == s {
			return i
		}
	}
	return -1
}

func (db *DB) aggRows(ctx context.Context, lvl, dim int8, lo, hi int64, stages []int, fn func(int, int64, string, *aggVec)) error {
	rows, err := db.Read.QueryContext(ctx, db.q.get("KPIAggRange"), int64(lvl), int64(dim), lo, hi,
		slices.Min(stages), slices.Max(stages))
	if err != nil {
		return wrapDB(err, "kpi aggregates")
	}
	defer rows.Close()
	var stage, unit int64
	var val []byte
	var v aggVec
	for rows.Next() {
		if err := rows.Scan(&stage, &unit, &val, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]); err != nil {
			return wrapDB(err, "kpi aggregates")
		}
		fn(int(stage), unit, string(val), &v)
	}
	return wrapDB(rows.Err(), "kpi aggregates")
}

// allStages are the indexes of FunnelStages.
var allStages = []int{0, 1, 2, 3, 4, 5, 6}

// KPICohorts returns the stage counts and cohorts of a period, one row per
// stage, unit and group.
func (db *DB) KPICohorts(ctx context.Context, r KPIRange) ([]CohortRow, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	type key struct {
		stage int
		unit  int64
		group string
	}
	idx := map[key]int{}
	var out []CohortRow
	err := db.readCohorts(ctx, r, allStages, func(stage int, unit int64, group string, v *aggVec) {
		k := key{stage, unit, group}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, CohortRow{Stage: FunnelStages[stage], Unit: unit, Group: group})
		}
		c := &out[i]
		c.N += v[0]
		c.Reached[0] = c.N
		for j := 1; j < 7; j++ {
			c.Reached[j] += v[j]
		}
		c.Recycled += v[7]
		c.Qualified += v[8]
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// KPIScores returns the score distribution of the leads created in the
// period.
func (db *DB) KPIScores(ctx context.Context, r KPIRange) ([]ScoreBinRow, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	type key struct {
		group string
		bin   int
	}
	idx := map[key]int{}
	var out []ScoreBinRow
	add := func(group string, bin int, n int64) {
		k := key{group, bin}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, ScoreBinRow{Group: group, Bin: bin})
		}
		out[i].N += n
	}
	p := planAgg(us(r.From), us(r.To), nil, false)
	for _, rg := range p.raw {
		if err := db.scanScores(ctx, add, "KPIScores", r.Group, rg[0], rg[1]); err != nil {
			return nil, err
		}
	}
	for _, d := range p.days {
		if err := db.scanScores(ctx, add, "KPIAggScoreRange", int64(dimOf(r.Group)), d[0], d[1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanScores runs the score-bin query name and adds its (group, bin,
// count) rows.
func (db *DB) scanScores(ctx context.Context, add func(group string, bin int, n int64), name string, args ...any) error {
	rows, err := db.Read.QueryContext(ctx, db.q.get(name), args...)
	if err != nil {
		return wrapDB(err, "kpi scores")
	}
	defer rows.Close()
	for rows.Next() {
		var group string
		var bin float64
		var n int64
		if err := rows.Scan(&group, &bin, &n); err != nil {
			return wrapDB(err, "kpi scores")
		}
		add(group, int(bin), n)
	}
	return wrapDB(rows.Err(), "kpi scores")
}

// wholeRange is a KPIRange of [from, to) in one unit, without breakdown
// unless group is set (the dashboard's reads).
func wholeRange(from, to time.Time, group string) KPIRange {
	return KPIRange{From: from, To: to, Granularity: int64(1) << 62, Group: group, Cuts: []time.Time{}}
}
