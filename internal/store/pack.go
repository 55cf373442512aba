package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// Packs (migration 00013): the compact scoring copy of a lead's events in
// one row of event_packs, so that a full rescore or backtest reads about
// one row per lead. event_scores stays the unpacked tail where new events
// land; PackEvents moves tail rows into packs. Triggers on events unpack a
// lead (back into event_scores) when one of its events changes, moves or
// goes, so pack + tail always equal the events table's projection.

// packVersion is the first byte of a pack.
const packVersion = 1

// encodePack encodes the events of one lead, sorted by (time, id):
//
//	version byte, uvarint n, then per event: varint Δts, varint Δid, uvarint sig
//
// (deltas from the previous event, the first from 0).
func encodePack(evs []CompactEvent, dst []byte) []byte {
	dst = append(dst, packVersion)
	dst = binary.AppendUvarint(dst, uint64(len(evs)))
	var ts, id int64
	for _, e := range evs {
		dst = binary.AppendVarint(dst, e.TS-ts)
		dst = binary.AppendVarint(dst, e.ID-id)
		dst = binary.AppendUvarint(dst, uint64(e.Sig))
		ts, id = e.TS, e.ID
	}
	return dst
}

// decodePack appends the events of lead's pack to dst.
func decodePack(lead int64, b []byte, dst []CompactEvent) ([]CompactEvent, error) {
	bad := func(what string) ([]CompactEvent, error) {
		return dst, leadflow.Errorf(leadflow.EINTERNAL, "event pack of lead %d: %s", lead, what)
	}
	if len(b) == 0 || b[0] != packVersion {
		return bad("unknown format")
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) { // every event takes at least 3 bytes
		return bad("bad length")
	}
	b = b[k:]
	dst = slices.Grow(dst, int(n))
	var ts, id int64
	for range n {
		dts, k1 := binary.Varint(b)
		if k1 <= 0 {
			return bad("truncated")
		}
		b = b[k1:]
		did, k2 := binary.Varint(b)
		if k2 <= 0 {
			return bad("truncated")
		}
		b = b[k2:]
		sig, k3 := binary.Uvarint(b)
		if k3 <= 0 {
			return bad("truncated")
		}
		b = b[k3:]
		ts, id = ts+dts, id+did
		dst = append(dst, CompactEvent{LeadID: lead, ID: id, TS: ts, Sig: int64(sig)})
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	return dst, nil
}

func cmpCompact(a, b CompactEvent) int {
	return cmp.Or(cmp.Compare(a.LeadID, b.LeadID), cmp.Compare(a.TS, b.TS), cmp.Compare(a.ID, b.ID))
}

// PackOptions tune PackEvents; zero values take the defaults.
type PackOptions struct {
	// BatchRows is about how many tail rows one transaction packs
	// (default 50,000).
	BatchRows int
	// Progress, when set, is called after each batch with the running
	// totals.
	Progress func(PackStats)
}

// PackStats says what PackEvents did.
type PackStats struct {
	Batches int   `json:"batches"`
	Leads   int64 `json:"leads"`  // packs written
	Events  int64 `json:"events"` // tail rows moved into packs
	Elapsed time.Duration
}

// DefaultPackBatch is PackOptions.BatchRows' default.
const DefaultPackBatch = 50_000

// PackEvents moves every row of the unpacked tail (event_scores) into its
// lead's pack, batch by batch, each batch in one transaction: the tail
// rows of a range of leads are deleted (and returned) in the statement
// that reads them, merged with those leads' packs and written back. It is
// cheap when the tail is small; safe to run beside ingestion and other
// packers (SQLite has one writer; PostgreSQL batches take an advisory
// lock the events trigger takes shared).
func (db *DB) PackEvents(ctx context.Context, opts PackOptions) (PackStats, error) {
	start := time.Now()
	var st PackStats
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultPackBatch
	}
	var lo int64
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		hi, more, err := db.packBatchEnd(ctx, lo, opts.BatchRows)
		if err != nil {
			return st, err
		}
		if hi <= lo && !more {
			break
		}
		var leads, events int64
		err = db.InTx(ctx, func(tx *Tx) error {
			var err error
			leads, events, err = tx.packRange(ctx, lo, hi)
			return err
		})
		if err != nil {
			return st, err
		}
		st.Batches++
		st.Leads += leads
		st.Events += events
		if opts.Progress != nil {
			st.Elapsed = time.Since(start)
			opts.Progress(st)
		}
		if !more {
			break
		}
		lo = hi
	}
	if db.Dialect == Postgres && st.Events >= pgVacuumAfter {
		// The moved rows are dead tuples that every later scan of the
		// tail's index walks over until autovacuum comes by.
		if _, err := db.Write.ExecContext(ctx, pgPackVacuum); err != nil {
			return st, wrapDB(err, "vacuum event_scores")
		}
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// pgPackVacuum cleans the tail after a large packing (PostgreSQL; not a
// named query: VACUUM cannot be prepared at start-up like those).
const pgPackVacuum = `VACUUM (ANALYZE) event_scores`

// pgVacuumAfter is how many packed rows make PackEvents vacuum the tail.
const pgVacuumAfter = 100_000

// packBatchEnd returns the last lead of the batch after lo: the lead of
// the n-th tail row after lo (more: there may be rows after it), or the
// largest lead id when fewer rows remain.
func (db *DB) packBatchEnd(ctx context.Context, lo int64, n int) (hi int64, more bool, err error) {
	err = db.queryRow(ctx, "PackBatchEnd", lo, n).Scan(&hi)
	if err == nil {
		return hi, true, nil
	}
	if err != sql.ErrNoRows {
		return 0, false, wrapDB(err, "pack batch end")
	}
	// The last batch: every remaining row, whatever its lead.
	return math.MaxInt64, false, nil
}

// packRange packs the tail rows of the leads with lo < id <= hi.
func (tx *Tx) packRange(ctx context.Context, lo, hi int64) (leads, events int64, err error) {
	if _, err := tx.exec(ctx, "PackLock"); err != nil {
		return 0, 0, err
	}
	rows, err := tx.query(ctx, "PackTailTake", lo, hi)
	if err != nil {
		return 0, 0, err
	}
	var tail []CompactEvent
	for rows.Next() {
		var e CompactEvent
		if err := rows.Scan(&e.LeadID, &e.ID, &e.TS, &e.Sig); err != nil {
			rows.Close()
			return 0, 0, wrapDB(err, "tail row")
		}
		tail = append(tail, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, wrapDB(err, "take tail rows")
	}
	if len(tail) == 0 {
		return 0, 0, nil
	}
	if !slices.IsSortedFunc(tail, cmpCompact) {
		slices.SortFunc(tail, cmpCompact)
	}
	var ids []int64
	for i, e := range tail {
		if i == 0 || tail[i-1].LeadID != e.LeadID {
			ids = append(ids, e.LeadID)
		}
	}
	list := tx.db.idList(ids)
	old := map[int64][]byte{}
	prows, err := tx.query(ctx, "PackRead", list)
	if err != nil {
		return 0, 0, err
	}
	for prows.Next() {
		var id int64
		var data []byte
		if err := prows.Scan(&id, &data); err != nil {
			prows.Close()
			return 0, 0, wrapDB(err, "event pack")
		}
		old[id] = data
	}
	prows.Close()
	if err := prows.Err(); err != nil {
		return 0, 0, wrapDB(err, "read event packs")
	}
	if len(old) > 0 {
		if _, err := tx.exec(ctx, "PackDelete", list); err != nil {
			return 0, 0, err
		}
	}
	var (
		evs   []CompactEvent
		buf   []byte
		pids  []int64
		ns    []int64
		datas [][]byte
	)
	for i := 0; i < len(tail); {
		j := i
		for j < len(tail) && tail[j].LeadID == tail[i].LeadID {
			j++
		}
		id := tail[i].LeadID
		evs = evs[:0]
		if data, ok := old[id]; ok {
			if evs, err = decodePack(id, data, evs); err != nil {
				return 0, 0, err
			}
		}
		evs = mergeCompact(evs, tail[i:j])
		buf = encodePack(evs, buf[:0])
		pids, ns, datas = append(pids, id), append(ns, int64(len(evs))), append(datas, slices.Clone(buf))
		i = j
	}
	if err := tx.insertPacks(ctx, pids, ns, datas); err != nil {
		return 0, 0, err
	}
	return int64(len(pids)), int64(len(tail)), nil
}

// mergeCompact merges the sorted tail events of one lead into its sorted
// pack events (in place at the end of packed) and returns them sorted by
// (time, id). An event in both (which the triggers never leave) is kept
// once, as the tail has it.
func mergeCompact(packed, tail []CompactEvent) []CompactEvent {
	if len(packed) == 0 {
		return append(packed, tail...)
	}
	if cmpCompact(packed[len(packed)-1], tail[0]) < 0 {
		return append(packed, tail...) // the usual case: newer events
	}
	out := make([]CompactEvent, 0, len(packed)+len(tail))
	i, j := 0, 0
	for i < len(packed) || j < len(tail) {
		switch {
		case j == len(tail):
			out = append(out, packed[i])
			i++
		case i == len(packed):
			out = append(out, tail[j])
			j++
		default:
			switch c := cmpCompact(packed[i], tail[j]); {
			case c < 0:
				out = append(out, packed[i])
				i++
			case c > 0:
				out = append(out, tail[j])
				j++
			default:
				out = append(out, tail[j])
				i, j = i+1, j+1
			}
		}
	}
	return append(packed[:0], out...)
}

// idList is a list of ids as the PackRead/PackDelete statements take it:
// a JSON array for SQLite, an int8 array for PostgreSQL.
func (db *DB) idList(ids []int64) any {
	if db.Dialect == Postgres {
		return ids
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return b.String()
}

// insertPacks writes new packs (their leads have none).
func (tx *Tx) insertPacks(ctx context.Context, ids, ns []int64, datas [][]byte) error {
	if len(ids) == 0 {
		return nil
	}
	if tx.db.Dialect == Postgres {
		_, err := tx.exec(ctx, "PackInsert", ids, ns, datas)
		return err
	}
	rows := make([][]any, len(ids))
	for i := range ids {
		rows[i] = []any{ids[i], ns[i], datas[i]}
	}
	return insertRows(ctx, tx, "PackInsert", rows)
}

// PackCounts are the sizes of the packed copy and the tail.
type PackCounts struct {
	Packs, Packed, Tail int64
}

// CountPacks counts packs, the events in them and the tail rows.
func (db *DB) CountPacks(ctx context.Context) (PackCounts, error) {
	var c PackCounts
	err := db.queryRow(ctx, "PackCount").Scan(&c.Packs, &c.Packed, &c.Tail)
	return c, wrapDB(err, "count event packs")
}

// pgBytea decodes a bytea in PostgreSQL's binary or text (hex) format.
func pgBytea(format int16, b []byte) ([]byte, error) {
	if format != 0 { // binary
		return b, nil
	}
	s, ok := strings.CutPrefix(string(b), `\x`)
	if !ok {
		return nil, leadflow.Errorf(leadflow.EINTERNAL, "decode bytea: not hex")
	}
	out, err := hex.DecodeString(s)
	if err != nil {
		return nil, leadflow.Internal(err, "decode bytea")
	}
	return out, nil
}

// noticePacking returns what to run after migrations when migration 00013
// is among them on an existing database: pack the compact copy once, with
// a word on stderr when it is large.
func (db *DB) noticePacking(ctx context.Context, cur, target int64) func() {
	if cur < 1 || cur >= 13 || target < 13 {
		return func() {}
	}
	return func() {
		var tail int64
		_ = db.queryRow(ctx, "PackCount").Scan(new(int64), new(int64), &tail)
		loud := tail >= 1_000_000
		if loud {
			fmt.Fprintf(os.Stderr, "leadflow: migration 00013 packs %d compact events per lead (event_packs)…\n", tail)
		}
		st, err := db.PackEvents(ctx, PackOptions{})
		if err != nil {
			// Not fatal: the next rescore, backtest or periodic job packs.
			fmt.Fprintf(os.Stderr, "leadflow: packing the compact copy: %v (it is retried later)\n", err)
			return
		}
		if loud {
			fmt.Fprintf(os.Stderr, "leadflow: packed %d events of %d leads in %s\n", st.Events, st.Leads, st.Elapsed.Round(time.Second))
		}
	}
}
