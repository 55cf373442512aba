package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/leadflow/leadflow"
)

// The compact scoring copy of events (table event_scores, kept by
// triggers on events) and its signature dictionary (event_sigs): what a
// rescore or a backtest reads when the model reads no event field but
// type, name and properties.path.

// EventSig is one distinct (type, name, properties.path) of events.
// Path is the JSON text of properties.path, "" when the event has none.
type EventSig struct {
	ID               int64
	Type, Name, Path string
}

// EventSigs returns the signatures with an id above after, in id order.
// Signatures are never changed or removed, so a reader can load them
// incrementally.
func (db *DB) EventSigs(ctx context.Context, after int64) ([]EventSig, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("BulkEventSigs"), after)
	if err != nil {
		return nil, wrapDB(err, "event signatures")
	}
	defer rows.Close()
	var out []EventSig
	for rows.Next() {
		var s EventSig
		if err := rows.Scan(&s.ID, &s.Type, &s.Name, &s.Path); err != nil {
			return nil, wrapDB(err, "event signature")
		}
		out = append(out, s)
	}
	return out, wrapDB(rows.Err(), "event signatures")
}

// CompactEvent is one row of the compact copy.
type CompactEvent struct {
	LeadID, ID int64
	TS         int64 // unix microseconds
	Sig        int64
}

// Time returns the event's timestamp.
func (e *CompactEvent) Time() time.Time { return fromUS(e.TS) }

// ScanCompact calls fn for every compact event of the leads with
// lo < id <= hi, in (lead, time, id) order: the events of the leads'
// packs (migration 00013) merged with the unpacked tail.
func (db *DB) ScanCompact(ctx context.Context, lo, hi int64, fn func(*CompactEvent) error) error {
	evs, err := db.readCompactRows(ctx, lo, hi, nil)
	if err != nil {
		return err
	}
	for i := range evs {
		if err := fn(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// readCompactRows appends to buf the compact events of the leads with
// lo < id <= hi in (lead, time, id) order. Packs and tail rows come from
// one statement (one snapshot), so a concurrent packing moves no event
// out of sight or into view twice. Packs are decoded as they arrive;
// tail rows (few once packed) are merged in at the end.
func (db *DB) readCompactRows(ctx context.Context, lo, hi int64, buf []CompactEvent) ([]CompactEvent, error) {
	start := len(buf)
	var tail []CompactEvent
	var derr error
	q := db.q.get("BulkCompactEvents")
	if db.Dialect == Postgres {
		conn, err := db.Read.Conn(ctx)
		if err != nil {
			return buf, wrapDB(err, "scan compact events")
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			rows, err := dc.(*stdlib.Conn).Conn().Query(ctx, q, lo, hi, lo, hi)
			if err != nil {
				return wrapDB(err, "scan compact events")
			}
			defer rows.Close()
			fds := rows.FieldDescriptions()
			for rows.Next() {
				v := rows.RawValues()
				lead, err := pgInt(fds[0].Format, v[0])
				if err != nil {
					return err
				}
				if v[4] != nil {
					data, err := pgBytea(fds[4].Format, v[4])
					if err != nil {
						return err
					}
					if buf, derr = decodePack(lead, data, buf); derr != nil {
						return derr
					}
					continue
				}
				e := CompactEvent{LeadID: lead}
				if e.ID, err = pgInt(fds[1].Format, v[1]); err != nil {
					return err
				}
				if e.TS, err = pgInt(fds[2].Format, v[2]); err != nil {
					return err
				}
				if e.Sig, err = pgInt(fds[3].Format, v[3]); err != nil {
					return err
				}
				tail = append(tail, e)
			}
			return wrapDB(rows.Err(), "scan compact events")
		})
		if err != nil {
			return buf, err
		}
		return mergeTail(buf, start, tail), nil
	}
	// SQLite: the driver's rows directly, without database/sql's locking
	// and per-value conversions (half the cost of a row).
	err := db.rawRows(ctx, q, []any{lo, hi, lo, hi}, func(v []driver.Value) error {
		lead, ok := v[0].(int64)
		if !ok {
			return leadflow.Errorf(leadflow.EINTERNAL, "compact event: unexpected lead id type %T", v[0])
		}
		if v[4] != nil {
			data, ok := v[4].([]byte)
			if !ok {
				return leadflow.Errorf(leadflow.EINTERNAL, "event pack: unexpected type %T", v[4])
			}
			buf, derr = decodePack(lead, data, buf)
			return derr
		}
		e := CompactEvent{LeadID: lead}
		var okID, okTS, okSig bool
		e.ID, okID = v[1].(int64)
		e.TS, okTS = v[2].(int64)
		e.Sig, okSig = v[3].(int64)
		if !okID || !okTS || !okSig {
			return leadflow.Errorf(leadflow.EINTERNAL, "compact event: unexpected column types %T %T %T", v[1], v[2], v[3])
		}
		tail = append(tail, e)
		return nil
	})
	if err != nil {
		return buf, err
	}
	return mergeTail(buf, start, tail), nil
}

// mergeTail merges the tail rows into the packed events buf[start:] (each
// pack sorted; packs normally in lead order) and returns buf with
// buf[start:] in (lead, time, id) order. An event in both (which the
// triggers never leave) is kept once, as the tail has it.
func mergeTail(buf []CompactEvent, start int, tail []CompactEvent) []CompactEvent {
	packed := buf[start:]
	if !slices.IsSortedFunc(packed, cmpCompact) {
		slices.SortFunc(packed, cmpCompact)
	}
	if len(tail) == 0 {
		return buf
	}
	if !slices.IsSortedFunc(tail, cmpCompact) {
		slices.SortFunc(tail, cmpCompact)
	}
	if len(packed) == 0 || cmpCompact(packed[len(packed)-1], tail[0]) < 0 {
		return append(buf, tail...)
	}
	packed = slices.Clone(packed)
	return append(buf[:start], mergeCompact(packed, tail)...)
}

// rawRows runs a query on a read connection and calls fn with each row's
// values as the driver returns them (valid during the call only).
func (db *DB) rawRows(ctx context.Context, q string, args []any, fn func([]driver.Value) error) error {
	conn, err := db.Read.Conn(ctx)
	if err != nil {
		return wrapDB(err, "query")
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return leadflow.Errorf(leadflow.EINTERNAL, "driver %T cannot query", dc)
		}
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := qc.QueryContext(ctx, q, nv)
		if err != nil {
			return wrapDB(err, "query")
		}
		defer rows.Close()
		vals := make([]driver.Value, len(rows.Columns()))
		for {
			if err := rows.Next(vals); err == io.EOF {
				return nil
			} else if err != nil {
				return wrapDB(err, "next row")
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
	})
}

// CompactCovers reports whether the compact copy holds every event field
// in fields (dotted paths, as scoring.Model.EventFields lists them): type,
// name and properties.path.
func CompactCovers(fields []string) bool {
	for _, f := range fields {
		switch f {
		case "type", "name", "properties.path":
		default:
			return false
		}
	}
	return true
}

// SigCache turns signature ids into Event templates (type, name and
// properties with the path, if any), loading new signatures when an
// unknown id shows up. One per goroutine.
type SigCache struct {
	db   *DB
	byID map[int64]*leadflow.Event
	last int64
}

// NewSigCache returns an empty SigCache.
func (db *DB) NewSigCache() *SigCache {
	return &SigCache{db: db, byID: map[int64]*leadflow.Event{}}
}

// Event returns the template of signature id, or false when it is not
// loaded (ReadCompact loads every signature its rows use). It is shared:
// callers copy it and must not modify its Properties.
func (c *SigCache) Event(id int64) (*leadflow.Event, bool) {
	e, ok := c.byID[id]
	return e, ok
}

// refresh loads the signatures added since the last load.
func (c *SigCache) refresh(ctx context.Context) error {
	sigs, err := c.db.EventSigs(ctx, c.last)
	if err != nil {
		return err
	}
	for _, g := range sigs {
		e := &leadflow.Event{Type: leadflow.EventType(g.Type), Name: g.Name, Properties: map[string]any{}}
		if g.Path != "" {
			var v any
			if err := json.Unmarshal([]byte(g.Path), &v); err != nil {
				return leadflow.Internal(err, "decode event signature path")
			}
			e.Properties["path"] = v
		}
		c.byID[g.ID] = e
		c.last = max(c.last, g.ID)
	}
	return nil
}

// ReadCompact appends to buf the compact events of the leads with
// lo < id <= hi, in (lead, time, id) order, and makes sure sigs knows
// every signature they use. The rows are read first and the signatures
// after, so a reader never holds two connections at once.
func (db *DB) ReadCompact(ctx context.Context, lo, hi int64, sigs *SigCache, buf []CompactEvent) ([]CompactEvent, error) {
	start := len(buf)
	buf, err := db.readCompactRows(ctx, lo, hi, buf)
	if err != nil {
		return buf, err
	}
	missing := false
	for _, e := range buf[start:] {
		if _, ok := sigs.byID[e.Sig]; !ok {
			missing = true
			break
		}
	}
	if !missing {
		return buf, nil
	}
	if err := sigs.refresh(ctx); err != nil {
		return buf, err
	}
	for _, e := range buf[start:] {
		if _, ok := sigs.byID[e.Sig]; !ok {
			return buf, leadflow.Errorf(leadflow.EINTERNAL, "compact event %d: unknown event signature %d", e.ID, e.Sig)
		}
	}
	return buf, nil
}

// noticeCompactBackfill says on stderr, before migrations run, that
// migration 00006 is about to copy a large events table into the compact
// copy (a few minutes for tens of millions of events), and how long it
// took once done (the returned func).
//
// When migration 00013 is among those about to run on an existing
// database, the returned func also packs the compact copy (noticePacking).
func (db *DB) noticeCompactBackfill(ctx context.Context, p *goose.Provider) func() {
	cur, target, err := p.GetVersions(ctx)
	if err != nil {
		return func() {}
	}
	pack := db.noticePacking(ctx, cur, target)
	if cur < 1 || cur >= 6 || target < 6 {
		return pack
	}
	var n int64
	if err := db.queryRow(ctx, "BulkMaxEventID").Scan(&n); err != nil || n < 1_000_000 {
		return pack
	}
	fmt.Fprintf(os.Stderr, "leadflow: migration 00006 copies about %d events into the compact scoring copy (event_scores); this takes a few minutes at tens of millions of events…\n", n)
	start := time.Now()
	return func() {
		fmt.Fprintf(os.Stderr, "leadflow: compact scoring copy built in %s\n", time.Since(start).Round(time.Second))
		pack()
	}
}

// valueRow lets scanLead (and the like) read a row of driver values
// without database/sql's reflection: the destinations the store's scanners
// use, from the values SQLite returns.
type valueRow []driver.Value

func (r valueRow) Scan(dest ...any) error {
	if len(dest) != len(r) {
		return leadflow.Errorf(leadflow.EINTERNAL, "scan: %d destinations for %d columns", len(dest), len(r))
	}
	for i, d := range dest {
		v := r[i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		ok := true
		switch d := d.(type) {
		case *int64:
			*d, ok = v.(int64)
		case *int:
			var n int64
			n, ok = v.(int64)
			*d = int(n)
		case *bool:
			var n int64
			n, ok = v.(int64)
			*d = n != 0
		case *float64:
			switch x := v.(type) {
			case float64:
				*d = x
			case int64:
				*d = float64(x)
			default:
				ok = false
			}
		case *string:
			*d, ok = v.(string)
		case *sql.NullString:
			*d = sql.NullString{}
			if v != nil {
				d.String, ok = v.(string)
				d.Valid = ok
			}
		case *sql.NullInt64:
			*d = sql.NullInt64{}
			if v != nil {
				d.Int64, ok = v.(int64)
				d.Valid = ok
			}
		default:
			ok = false
		}
		if !ok {
			return leadflow.Errorf(leadflow.EINTERNAL, "scan column %d: cannot store %T in %T", i, r[i], d)
		}
	}
	return nil
}
