package store

import (
	"cmp"
	"context"
	"database/sql"
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
	bounds := segmentBounds(from, to, cuts)
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

// segmentBounds cuts [from, to) at cuts (ascending): from, the cuts
// inside, to.
func segmentBounds(from, to int64, cuts []int64) []int64 {
	bounds := []int64{from}
	for _, c := range cuts {
		if c > bounds[len(bounds)-1] && c < to {
			bounds = append(bounds, c)
		}
	}
	return append(bounds, to)
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
		pairs := []string{"created_at", stageCols[s], "'lead'", "'" + FunnelStages[s] + "'"}
		if s > 0 {
			// z: reached together with the stage before (never for "lead").
			pairs = append(pairs, "lead_id < 0", stageCols[s-1]+" >= "+stageCols[s])
		}
		q := strings.NewReplacer(pairs...).Replace(tmpl)
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
// Between two cuts the aggregates are summed in the database, one
// statement per segment (see planSums): their rows come with the unit of
// the segment's start (every unit between two cuts is in the same
// bucket), the pieces read from kpi_funnel with their own.
func (db *DB) readCohorts(ctx context.Context, r KPIRange, stages []int, fn func(stage int, unit int64, group string, v *aggVec)) error {
	cuts, ok := r.cuts()
	raw := [][2]int64{{us(r.From), us(r.To)}}
	if ok {
		var segs []aggSeg
		segs, raw = planSums(segmentBounds(us(r.From), us(r.To), cuts), func(t int64) int64 {
			return floorDiv(t+r.Offset, r.Granularity)
		})
		// One statement for every segment (a weekly year: 53).
		st, err := db.Read.PrepareContext(ctx, db.q.get("KPIAggSum"))
		if err != nil {
			return wrapDB(err, "kpi aggregates")
		}
		defer st.Close()
		dim := int64(dimOf(r.Group))
		for _, sg := range segs {
			for len(sg.parts) > 0 {
				n := min(len(sg.parts), aggSumParts)
				if err := aggSum(ctx, st, dim, sg.parts[:n], stages, func(stage int, val string, v *aggVec) {
					fn(stage, sg.unit, val, v)
				}); err != nil {
					return err
				}
				sg.parts = sg.parts[n:]
			}
		}
	}
	if len(raw) > 0 {
		q := db.stageCohortSQL(stages)
		for _, rg := range raw {
			var args []any
			for range stages {
				args = append(args, r.Offset, r.Granularity, r.Group, rg[0], rg[1])
			}
			if err := db.rawCohorts(ctx, q, args, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// aggSeg is what a segment reads from kpi_agg: the sum of its parts, as
// of unit.
type aggSeg struct {
	unit  int64
	parts []aggPart
}

// aggPart is the rows of level lvl, units [lo, hi), added (sign 1) or
// subtracted (-1).
type aggPart struct {
	lvl          int8
	lo, hi, sign int64
}

// planSums plans the reads of the segments between bounds: each
// segment's whole blocks, days and hours (see planAgg) as of the unit of
// its start (unitOf), and the pieces left for kpi_funnel (raw). Hours
// that fill more than half of a UTC day (a bucket starting at 15:00 UTC,
// Tokyo's midnight, leaves 15 hours of the day before it) are read as the
// day minus its other hours; whole blocks of days and hours inside a run
// of them from the block rows (lvl 3 and 4).
func planSums(bounds []int64, unitOf func(int64) int64) (segs []aggSeg, raw [][2]int64) {
	const dayHours = aggDayUS / hourMicros
	for i := 0; i+1 < len(bounds); i++ {
		p := planAgg(bounds[i], bounds[i+1], nil, true)
		raw = append(raw, p.raw...)
		sg := aggSeg{unit: unitOf(bounds[i])}
		// add adds [lo, hi) of lvl (1 or 2), whole blocks of it (lvl 4 or
		// 3) from the block rows.
		add := func(lvl int8, lo, hi, sign int64) {
			blvl, size := int8(4), int64(aggBlockHours)
			if lvl == 2 {
				blvl, size = 3, aggBlockDays
			}
			b0, b1 := -floorDiv(-lo, size), floorDiv(hi, size)
			if b0 >= b1 {
				sg.parts = append(sg.parts, aggPart{lvl, lo, hi, sign})
				return
			}
			if lo < b0*size {
				sg.parts = append(sg.parts, aggPart{lvl, lo, b0 * size, sign})
			}
			sg.parts = append(sg.parts, aggPart{blvl, b0, b1, sign})
			if b1*size < hi {
				sg.parts = append(sg.parts, aggPart{lvl, b1 * size, hi, sign})
			}
		}
		days := slices.Clone(p.days)
		for _, h := range p.hours {
			d := floorDiv(h[0], dayHours)
			if floorDiv(h[1]-1, dayHours) != d || 2*(h[1]-h[0]) <= dayHours {
				add(1, h[0], h[1], 1)
				continue
			}
			days = append(days, [2]int64{d, d + 1})
			if h[0] > d*dayHours {
				add(1, d*dayHours, h[0], -1)
			}
			if h[1] < (d+1)*dayHours {
				add(1, h[1], (d+1)*dayHours, -1)
			}
		}
		slices.SortFunc(days, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
		var merged [][2]int64
		for _, d := range days {
			merged = appendRange(merged, d[0], d[1])
		}
		for _, d := range merged {
			add(2, d[0], d[1], 1)
		}
		if len(sg.parts) > 0 {
			segs = append(segs, sg)
		}
	}
	return segs, raw
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
		if err := rows.Scan(&stage, &unit, &group, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]); err != nil {
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

// aggSumParts is the number of parts KPIAggSum sums (unused ones are
// empty ranges).
const aggSumParts = 8

// aggSum calls fn with the signed sums of parts (at most aggSumParts) of
// the kpi_agg rows of dim, per stage of stages and value (st: KPIAggSum).
func aggSum(ctx context.Context, st *sql.Stmt, dim int64, parts []aggPart, stages []int, fn func(int, string, *aggVec)) error {
	args := make([]any, 0, 5*aggSumParts+2)
	for i := range aggSumParts {
		p := aggPart{lvl: 1}
		if i < len(parts) {
			p = parts[i]
		}
		args = append(args, p.sign, int64(p.lvl), dim, p.lo, p.hi)
	}
	args = append(args, int64(slices.Min(stages)), int64(slices.Max(stages)))
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return wrapDB(err, "kpi aggregates")
	}
	defer rows.Close()
	want := [7]bool{}
	for _, s := range stages {
		want[s] = true
	}
	var stage int64
	var val []byte
	var v aggVec
	for rows.Next() {
		if err := rows.Scan(&stage, &val, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]); err != nil {
			return wrapDB(err, "kpi aggregates")
		}
		if want[stage] {
			fn(int(stage), string(val), &v)
		}
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
		if *v == (aggVec{}) {
			return
		}
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
		c.Zero += v[9]
	})
	if err != nil {
		return nil, err
	}
	// A day read minus its hours may leave a value with nothing.
	return slices.DeleteFunc(out, func(c CohortRow) bool { return c == (CohortRow{Stage: c.Stage, Unit: c.Unit, Group: c.Group}) }), nil
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
	dim := int64(dimOf(r.Group))
	for _, d := range p.days {
		// Whole 4-day blocks from their rows, the days around them from
		// the day rows.
		b0, b1 := -floorDiv(-d[0], aggBlockDays), floorDiv(d[1], aggBlockDays)
		parts := [][3]int64{{2, d[0], d[1]}}
		if b0 < b1 {
			parts = [][3]int64{{2, d[0], b0 * aggBlockDays}, {3, b0, b1}, {2, b1 * aggBlockDays, d[1]}}
		}
		for _, pt := range parts {
			if pt[1] < pt[2] {
				if err := db.scanScores(ctx, add, "KPIAggScoreRange", pt[0], dim, pt[1], pt[2]); err != nil {
					return nil, err
				}
			}
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
