package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
)

// KPI pre-aggregates (migration 00014, docs/kpis.md "Speed"). kpi_agg
// holds, per UTC hour (lvl 1) and UTC day (lvl 2), per stage and per
// breakdown value (dim 0: every lead; 1…6: GroupColumns), the number of
// leads that reached the stage in the unit, how many of them reached
// each later stage by now and how many reached it together with the stage
// before (z, migration 00016: their velocity is 0); kpi_agg_scores the leads created per UTC day (and
// 4-day block, migration 00016) and
// value by score bin. RefreshFunnel keeps both up to date: in the
// transaction that rewrites the kpi_funnel rows of the changed leads it
// reads their rows before, gets the new ones back from the rewrite
// (RETURNING) and applies the difference. A read
// takes whole days and hours of a period from the aggregates and the
// pieces shorter than an hour (a period or bucket starting at 09:30) from
// kpi_funnel, so its answers are exactly those of kpi_funnel.

const (
	hourMicros  = int64(3600) * 1e6
	aggDayUS    = 24 * hourMicros
	aggBuiltKey = "agg.built"
	aggLockKey  = "agg.lock"
	aggBatch    = 500
)

// aggLevelSize is the unit length of each lvl: UTC hours (1), days (2),
// and since migration 00016 blocks of aggBlockDays days (3: a month of
// days is read as about 7 block rows and a few day rows) and of
// aggBlockHours hours (4: the 9 hours of a UTC day after Tokyo's midnight
// are 3 rows).
var aggLevelSize = [5]int64{1: hourMicros, 2: aggDayUS, 3: aggBlockDays * aggDayUS, 4: aggBlockHours * hourMicros}

const (
	aggBlockDays  = 4
	aggBlockHours = 3
)

// aggTop is the highest lvl.
const aggTop = int8(4)

// funnelRow is one kpi_funnel row: at[i] is when the lead reached
// FunnelStages[i] (has[i] false: never), vals the breakdown values in
// GroupColumns order.
type funnelRow struct {
	id        int64
	at        [7]int64
	has       [7]bool
	vals      [6]string
	score     float64
	recycled  int64
	qualified int64
}

func scanFunnelRows(rows *sql.Rows, fn func(*funnelRow)) error {
	defer rows.Close()
	var f funnelRow
	var ts [6]sql.NullInt64
	for rows.Next() {
		if err := rows.Scan(&f.id, &f.at[0], &f.vals[0], &f.vals[1], &f.vals[2], &f.vals[3], &f.vals[4], &f.vals[5],
			&f.score, &ts[0], &ts[1], &ts[2], &ts[3], &ts[4], &ts[5], &f.recycled, &f.qualified); err != nil {
			return wrapDB(err, "kpi funnel rows")
		}
		f.has[0] = true
		for i, t := range ts {
			f.at[i+1], f.has[i+1] = t.Int64, t.Valid
		}
		fn(&f)
	}
	return wrapDB(rows.Err(), "kpi funnel rows")
}

// aggKey is a kpi_agg row; val indexes aggDelta.names.
type aggKey struct {
	lvl, dim, stage int8
	val             int32
	unit            int64
}

// aggVec is n, r1…r6, recycled, qualified, z.
type aggVec [10]int64

type scoreKey struct {
	lvl, dim  int8
	val       int32
	unit, bin int64
}

// aggDelta gathers changes to kpi_agg and kpi_agg_scores.
type aggDelta struct {
	agg    map[aggKey]*aggVec
	scores map[scoreKey]int64
	ids    map[string]int32
	names  []string
	// hoursOnly: add leaves out the day rows (a build adds them up from
	// the hour rows with days).
	hoursOnly bool
}

func newAggDelta() *aggDelta {
	return &aggDelta{agg: map[aggKey]*aggVec{}, scores: map[scoreKey]int64{}, ids: map[string]int32{"": 0}, names: []string{""}}
}

func (d *aggDelta) id(val string) int32 {
	i, ok := d.ids[val]
	if !ok {
		i = int32(len(d.names))
		d.ids[val] = i
		d.names = append(d.names, val)
	}
	return i
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// scoreBin is floor(score / 10), as the SQL reads compute it.
func scoreBin(score float64) int64 { return int64(math.Floor(score / 10)) }

// add adds (sign 1) or subtracts (sign -1) one kpi_funnel row for the
// breakdowns dims.
func (d *aggDelta) add(f *funnelRow, sign int64, dims []int8) {
	var v aggVec
	v[0] = sign
	for j := 1; j < 7; j++ {
		if f.has[j] {
			v[j] = sign
		}
	}
	if f.recycled > 0 {
		v[7] = sign
	}
	if f.qualified != 0 {
		v[8] = sign
	}
	var vals [7]int32
	for _, dim := range dims {
		if dim > 0 {
			vals[dim] = d.id(f.vals[dim-1])
		}
	}
	top := aggTop
	if d.hoursOnly {
		top = 1
	}
	for i := range f.at {
		if !f.has[i] {
			continue
		}
		// z: reached together with the stage before (velocity 0).
		v[9] = 0
		if i > 0 && f.has[i-1] && f.at[i-1] >= f.at[i] {
			v[9] = sign
		}
		for lvl := int8(1); lvl <= top; lvl++ {
			unit := floorDiv(f.at[i], aggLevelSize[lvl])
			for _, dim := range dims {
				k := aggKey{lvl: lvl, dim: dim, stage: int8(i), unit: unit, val: vals[dim]}
				p := d.agg[k]
				if p == nil {
					p = &aggVec{}
					d.agg[k] = p
				}
				for x := range v {
					p[x] += v[x]
				}
			}
		}
	}
	d.addScore(f, sign, dims, &vals)
}

// addScore adds (sign 1) or subtracts (-1) a row's score bin; vals are
// its interned breakdown values.
func (d *aggDelta) addScore(f *funnelRow, sign int64, dims []int8, vals *[7]int32) {
	bin := scoreBin(f.score)
	for lvl := int8(2); lvl <= 3; lvl++ { // days and blocks of days
		unit := floorDiv(f.at[0], aggLevelSize[lvl])
		for _, dim := range dims {
			d.scores[scoreKey{lvl: lvl, dim: dim, unit: unit, bin: bin, val: vals[dim]}] += sign
		}
	}
}

// change applies the change of a row from old to f: when only its score
// moved (a rescore, the common bulk change), only the score bins.
func (d *aggDelta) change(old, f *funnelRow, dims []int8) {
	if old.at != f.at || old.has != f.has || old.vals != f.vals || (old.recycled > 0) != (f.recycled > 0) ||
		(old.qualified != 0) != (f.qualified != 0) {
		d.add(old, -1, dims)
		d.add(f, 1, dims)
		return
	}
	if scoreBin(old.score) == scoreBin(f.score) {
		return
	}
	var vals [7]int32
	for _, dim := range dims {
		if dim > 0 {
			vals[dim] = d.id(f.vals[dim-1])
		}
	}
	d.addScore(old, -1, dims, &vals)
	d.addScore(f, 1, dims, &vals)
}

// addDays adds the day and block rows of the hour rows (after a
// hoursOnly build).
func (d *aggDelta) addDays() {
	up := map[aggKey]*aggVec{}
	for k, v := range d.agg {
		if k.lvl != 1 {
			continue
		}
		for lvl := int8(2); lvl <= aggTop; lvl++ {
			ku := k
			ku.lvl, ku.unit = lvl, floorDiv(k.unit*hourMicros, aggLevelSize[lvl])
			p := up[ku]
			if p == nil {
				p = &aggVec{}
				up[ku] = p
			}
			for x := range v {
				p[x] += v[x]
			}
		}
	}
	for k, v := range up {
		d.agg[k] = v
	}
}

var allDims = []int8{0, 1, 2, 3, 4, 5, 6}

const aggUpsertHead = `INSERT INTO kpi_agg (lvl, dim, unit, stage, val, n, r1, r2, r3, r4, r5, r6, recycled, qualified, z) VALUES `

const aggUpsertTail = ` ON CONFLICT (lvl, dim, unit, stage, val) DO UPDATE SET n = kpi_agg.n + excluded.n,
    r1 = kpi_agg.r1 + excluded.r1, r2 = kpi_agg.r2 + excluded.r2, r3 = kpi_agg.r3 + excluded.r3,
    r4 = kpi_agg.r4 + excluded.r4, r5 = kpi_agg.r5 + excluded.r5, r6 = kpi_agg.r6 + excluded.r6,
    recycled = kpi_agg.recycled + excluded.recycled, qualified = kpi_agg.qualified + excluded.qualified,
    z = kpi_agg.z + excluded.z`

const scoreUpsertHead = `INSERT INTO kpi_agg_scores (lvl, dim, unit, val, bin, n) VALUES `

const scoreUpsertTail = ` ON CONFLICT (lvl, dim, unit, val, bin) DO UPDATE SET n = kpi_agg_scores.n + excluded.n`

// apply writes the delta in key order (rows that reach zero stay, with
// n = 0; reads skip them and the next build drops them).
func (d *aggDelta) apply(ctx context.Context, tx *Tx) error {
	var args []any
	rows := 0
	flush := func(head, tail string, width int) error {
		if rows == 0 {
			return nil
		}
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
		q := head + strings.TrimSuffix(strings.Repeat(ph+", ", rows), ", ") + tail
		_, err := tx.ExecContext(ctx, tx.db.Dialect.Rebind(q), args...)
		args, rows = args[:0], 0
		return wrapDB(err, "kpi aggregates")
	}
	keys := make([]aggKey, 0, len(d.agg))
	for k, v := range d.agg {
		if *v != (aggVec{}) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b aggKey) int {
		return cmp.Or(cmp.Compare(a.lvl, b.lvl), cmp.Compare(a.dim, b.dim), cmp.Compare(a.unit, b.unit),
			cmp.Compare(a.stage, b.stage), strings.Compare(d.names[a.val], d.names[b.val]))
	})
	for _, k := range keys {
		v := d.agg[k]
		args = append(args, int64(k.lvl), int64(k.dim), k.unit, int64(k.stage), d.names[k.val],
			v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9])
		if rows++; rows == aggBatch {
			if err := flush(aggUpsertHead, aggUpsertTail, 15); err != nil {
				return err
			}
		}
	}
	if err := flush(aggUpsertHead, aggUpsertTail, 15); err != nil {
		return err
	}
	skeys := make([]scoreKey, 0, len(d.scores))
	for k, n := range d.scores {
		if n != 0 {
			skeys = append(skeys, k)
		}
	}
	slices.SortFunc(skeys, func(a, b scoreKey) int {
		return cmp.Or(cmp.Compare(a.lvl, b.lvl), cmp.Compare(a.dim, b.dim), cmp.Compare(a.unit, b.unit),
			strings.Compare(d.names[a.val], d.names[b.val]), cmp.Compare(a.bin, b.bin))
	})
	for _, k := range skeys {
		args = append(args, int64(k.lvl), int64(k.dim), k.unit, d.names[k.val], k.bin, d.scores[k])
		if rows++; rows == aggBatch {
			if err := flush(scoreUpsertHead, scoreUpsertTail, 6); err != nil {
				return err
			}
		}
	}
	return flush(scoreUpsertHead, scoreUpsertTail, 6)
}

// lockAgg serializes the transactions that change the aggregates (on
// PostgreSQL two refreshes could otherwise both apply one lead's change)
// and says whether they are built.
func (tx *Tx) lockAgg(ctx context.Context) (bool, error) {
	if _, err := tx.exec(ctx, "KPIStateSet", aggLockKey, us(tx.db.Now())); err != nil {
		return false, err
	}
	var built int64
	err := tx.QueryRowContext(ctx, tx.db.q.get("KPIStateGet"), aggBuiltKey).Scan(&built)
	if err != nil && err != sql.ErrNoRows {
		return false, wrapDB(err, "kpi aggregates")
	}
	return built == 1, nil
}

// funnelRows reads kpi_funnel rows with a named query.
func (tx *Tx) funnelRows(ctx context.Context, name string, fn func(*funnelRow), args ...any) error {
	rows, err := tx.QueryContext(ctx, tx.db.q.get(name), args...)
	if err != nil {
		return wrapDB(err, name)
	}
	return scanFunnelRows(rows, fn)
}

// applyGone subtracts the kpi_funnel rows deleted since the last refresh
// (recorded by the kpi_funnel_gone trigger), except those of leads in
// counted (already subtracted by the caller), and forgets them.
func (tx *Tx) applyGone(ctx context.Context, d *aggDelta, counted map[int64]bool) error {
	var ids []int64
	err := tx.funnelRows(ctx, "KPIFunnelGone", func(f *funnelRow) {
		ids = append(ids, f.id)
		if !counted[f.id] {
			d.add(f, -1, allDims)
		}
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := tx.exec(ctx, "KPIFunnelGoneDelete", id); err != nil {
			return err
		}
	}
	return nil
}

// refreshChunk rewrites the kpi_funnel rows of the stale leads with an id
// in (lo, hi] changed after since (see KPILeadsChanged), keeping the
// aggregates in step when they are built: the rows before are read first,
// the rows after are those the upsert returns.
func (tx *Tx) refreshChunk(ctx context.Context, upsert string, joinArgs, few bool, since, fresh, lo, hi int64) error {
	rowsChanged, deleteErased := "KPIFunnelRowsChanged", "KPIFunnelDeleteErased"
	if few {
		rowsChanged, deleteErased = "KPIFunnelRowsChangedFew", "KPIFunnelDeleteErasedFew"
	}
	built, err := tx.lockAgg(ctx)
	if err != nil {
		return err
	}
	d := newAggDelta()
	before := map[int64]*funnelRow{}
	if built {
		err := tx.funnelRows(ctx, rowsChanged, func(f *funnelRow) {
			old := *f
			before[f.id] = &old
		}, since, lo, hi, fresh)
		if err != nil {
			return err
		}
	}
	args := []any{since, lo, hi, fresh}
	if joinArgs {
		args = append(args, since, lo, hi, fresh)
	}
	rows, err := tx.QueryContext(ctx, upsert, args...)
	if err != nil {
		return wrapDB(err, "kpi funnel refresh")
	}
	var ids []int64
	err = scanFunnelRows(rows, func(f *funnelRow) {
		ids = append(ids, f.id)
		if !built {
			return
		}
		if old := before[f.id]; old != nil {
			delete(before, f.id) // still there: not deleted by this refresh
			d.change(old, f, allDims)
		} else {
			d.add(f, 1, allDims)
		}
	})
	if err != nil {
		return err
	}
	// The rows not rewritten are deleted below (erased leads): subtracted
	// here, and left out by applyGone.
	counted := map[int64]bool{}
	for id, old := range before {
		d.add(old, -1, allDims)
		counted[id] = true
	}
	if _, err := tx.exec(ctx, deleteErased, since, lo, hi, fresh); err != nil {
		return err
	}
	if err := tx.rewriteRecycles(ctx, ids); err != nil {
		return err
	}
	if !built {
		return nil
	}
	if err := tx.applyGone(ctx, d, counted); err != nil {
		return err
	}
	return d.apply(ctx, tx)
}

// refreshGone applies the deleted kpi_funnel rows when no lead changed.
func (db *DB) refreshGone(ctx context.Context) error {
	var n int64
	if err := db.Write.QueryRowContext(ctx, db.q.get("KPIFunnelGoneAny")).Scan(&n); err != nil {
		return wrapDB(err, "kpi funnel gone")
	}
	if n == 0 {
		return nil
	}
	return db.InTx(ctx, func(tx *Tx) error {
		built, err := tx.lockAgg(ctx)
		if err != nil || !built {
			return err
		}
		d := newAggDelta()
		if err := tx.applyGone(ctx, d, nil); err != nil {
			return err
		}
		return d.apply(ctx, tx)
	})
}

// buildAgg builds the aggregates from kpi_funnel unless they are built:
// once after migration 00014, in one transaction: one scan of kpi_funnel
// into hour rows, the day rows added up from them.
func (db *DB) buildAgg(ctx context.Context) error {
	var built int64
	err := db.Write.QueryRowContext(ctx, db.q.get("KPIStateGet"), aggBuiltKey).Scan(&built)
	if err != nil && err != sql.ErrNoRows {
		return wrapDB(err, "kpi aggregates")
	}
	if built == 1 {
		return nil
	}
	return db.InTx(ctx, func(tx *Tx) error {
		built, err := tx.lockAgg(ctx)
		if err != nil || built {
			return err
		}
		for _, q := range []string{"KPIAggClear", "KPIAggScoresClear", "KPIFunnelGoneClear"} {
			if _, err := tx.exec(ctx, q); err != nil {
				return err
			}
		}
		d := newAggDelta()
		d.hoursOnly = true
		if err := tx.funnelRows(ctx, "KPIFunnelRowsAll", func(f *funnelRow) { d.add(f, 1, allDims) }); err != nil {
			return err
		}
		d.addDays()
		if err := d.apply(ctx, tx); err != nil {
			return err
		}
		_, err = tx.exec(ctx, "KPIStateSet", aggBuiltKey, int64(1))
		return err
	})
}

// AggMismatches compares the aggregates with a from-scratch aggregation of
// kpi_funnel and returns the differences (for tests and checks): nil when
// they agree.
func (db *DB) AggMismatches(ctx context.Context) ([]string, error) {
	want := newAggDelta()
	got := newAggDelta() // values interned by want
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.funnelRows(ctx, "KPIFunnelRowsAll", func(f *funnelRow) { want.add(f, 1, allDims) }); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, tx.db.q.get("KPIAggAll"))
		if err != nil {
			return wrapDB(err, "kpi aggregates")
		}
		defer rows.Close()
		for rows.Next() {
			var k aggKey
			var lvl, dim, stage int64
			var val string
			v := &aggVec{}
			if err := rows.Scan(&lvl, &dim, &k.unit, &stage, &val, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
				&v[6], &v[7], &v[8], &v[9]); err != nil {
				return wrapDB(err, "kpi aggregates")
			}
			k.lvl, k.dim, k.stage, k.val = int8(lvl), int8(dim), int8(stage), want.id(val)
			got.agg[k] = v
		}
		if err := rows.Err(); err != nil {
			return wrapDB(err, "kpi aggregates")
		}
		srows, err := tx.QueryContext(ctx, tx.db.q.get("KPIAggScoresAll"))
		if err != nil {
			return wrapDB(err, "kpi aggregates")
		}
		defer srows.Close()
		for srows.Next() {
			var k scoreKey
			var lvl, dim, n int64
			var val string
			if err := srows.Scan(&lvl, &dim, &k.unit, &val, &k.bin, &n); err != nil {
				return wrapDB(err, "kpi aggregates")
			}
			k.lvl, k.dim, k.val = int8(lvl), int8(dim), want.id(val)
			got.scores[k] = n
		}
		return wrapDB(srows.Err(), "kpi aggregates")
	})
	if err != nil {
		return nil, err
	}
	var out []string
	for k, v := range want.agg {
		if g := got.agg[k]; g == nil || *g != *v {
			out = append(out, fmt.Sprintf("agg %+v %q: want %v, have %v", k, want.names[k.val], v, g))
		}
	}
	for k, v := range got.agg {
		if want.agg[k] == nil && *v != (aggVec{}) {
			out = append(out, fmt.Sprintf("agg %+v %q: want none, have %v", k, want.names[k.val], *v))
		}
	}
	for k, n := range want.scores {
		if got.scores[k] != n {
			out = append(out, fmt.Sprintf("score %+v %q: want %d, have %d", k, want.names[k.val], n, got.scores[k]))
		}
	}
	for k, n := range got.scores {
		if _, ok := want.scores[k]; !ok && n != 0 {
			out = append(out, fmt.Sprintf("score %+v %q: want 0, have %d", k, want.names[k.val], n))
		}
	}
	return out, nil
}

// ResetKPIAggregates forgets that the KPI pre-aggregates are built: the
// next RefreshFunnel rebuilds them from kpi_funnel (after a repair by
// hand, and to time the build).
func (db *DB) ResetKPIAggregates(ctx context.Context) error {
	_, err := db.Write.ExecContext(ctx, db.q.get("KPIStateDelete"), aggBuiltKey)
	return wrapDB(err, "kpi aggregates")
}
