package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/leadflow/leadflow"
)

// This file is the read and write side of the bulk rescore: whole ranges
// of leads and their events in one query each, and changed scores written
// back in batches. The per-lead path (FindLead, EventsOfLead, UpdateLead)
// stays the reference; the bulk rescore must give the same scores.

// ChunkEnd returns the id of the n-th lead after `after` (ids in order,
// erased leads counted too), or the largest lead id when fewer remain; 0
// when no lead is left. Leads in (after, end] form one rescore chunk.
func (db *DB) ChunkEnd(ctx context.Context, after int64, n int) (int64, error) {
	var end int64
	err := db.queryRow(ctx, "BulkChunkEnd", after, n-1).Scan(&end)
	if err == nil {
		return end, nil
	}
	if err != sql.ErrNoRows {
		return 0, wrapDB(err, "chunk end")
	}
	if err := db.queryRow(ctx, "BulkMaxLeadID").Scan(&end); err != nil {
		return 0, wrapDB(err, "max lead id")
	}
	if end <= after {
		return 0, nil
	}
	return end, nil
}

// LeadsInRange returns the leads with lo < id <= hi that are not erased,
// in id order.
func (db *DB) LeadsInRange(ctx context.Context, lo, hi int64) ([]*leadflow.Lead, error) {
	return db.LeadsInRangeJSON(ctx, lo, hi, AllLeadJSON)
}

// LeadJSON says which JSON columns of a lead a bulk read decodes; the
// others are left zero. A rescore decodes only what its model reads.
type LeadJSON struct {
	Attribution bool // FirstTouch, LastTouch (lead.source, medium, campaign)
	Traits      bool
	BANT        bool
}

// AllLeadJSON decodes every JSON column.
var AllLeadJSON = LeadJSON{Attribution: true, Traits: true, BANT: true}

// LeadsInRangeJSON is LeadsInRange decoding only the JSON columns in j.
func (db *DB) LeadsInRangeJSON(ctx context.Context, lo, hi int64, j LeadJSON) ([]*leadflow.Lead, error) {
	if db.Dialect == SQLite {
		// The driver's values directly: database/sql's conversions cost
		// more than SQLite's own work for a 28-column row.
		var out []*leadflow.Lead
		err := db.rawRows(ctx, db.q.get("BulkLeads"), []any{lo, hi}, func(v []driver.Value) error {
			l, err := scanLeadJSON(valueRow(v), j)
			if err == nil {
				out = append(out, l)
			}
			return err
		})
		return out, err
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("BulkLeads"), lo, hi)
	if err != nil {
		return nil, wrapDB(err, "leads in range")
	}
	defer rows.Close()
	var out []*leadflow.Lead
	for rows.Next() {
		l, err := scanLeadJSON(rows, j)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, wrapDB(rows.Err(), "leads in range")
}

// EventColumns says which event columns a bulk read returns besides lead
// id, id, type, name and timestamp.
type EventColumns struct {
	Properties, Context bool
}

// RawEvent is one event row as stored. Its byte slices are only valid
// during the callback that receives it.
type RawEvent struct {
	LeadID, ID int64
	Type, Name []byte
	TS         int64 // unix microseconds
	Properties []byte
	Context    []byte
}

// Time returns the event's timestamp.
func (e *RawEvent) Time() time.Time { return fromUS(e.TS) }

// ScanEvents calls fn for every event of the leads with lo < id <= hi, in
// lead order (events of one lead in no particular order). On PostgreSQL the
// rows are read with pgx directly, without database/sql's per-value
// conversions.
func (db *DB) ScanEvents(ctx context.Context, lo, hi int64, cols EventColumns, fn func(*RawEvent) error) error {
	name := "BulkEventsBare"
	switch {
	case cols.Context:
		name = "BulkEventsAll"
	case cols.Properties:
		name = "BulkEventsProps"
	}
	q := db.q.get(name)
	if db.Dialect == Postgres {
		return db.scanEventsPG(ctx, q, lo, hi, fn)
	}
	rows, err := db.Read.QueryContext(ctx, q, lo, hi)
	if err != nil {
		return wrapDB(err, "scan events")
	}
	defer rows.Close()
	var e RawEvent
	dest := []any{&e.LeadID, &e.ID, (*sql.RawBytes)(&e.Type), (*sql.RawBytes)(&e.Name), &e.TS}
	if cols.Properties || cols.Context {
		dest = append(dest, (*sql.RawBytes)(&e.Properties))
	}
	if cols.Context {
		dest = append(dest, (*sql.RawBytes)(&e.Context))
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return wrapDB(err, "scan event")
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return wrapDB(rows.Err(), "scan events")
}

func (db *DB) scanEventsPG(ctx context.Context, q string, lo, hi int64, fn func(*RawEvent) error) error {
	conn, err := db.Read.Conn(ctx)
	if err != nil {
		return wrapDB(err, "scan events")
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		rows, err := pc.Query(ctx, q, lo, hi)
		if err != nil {
			return wrapDB(err, "scan events")
		}
		defer rows.Close()
		fds := rows.FieldDescriptions()
		var e RawEvent
		for rows.Next() {
			v := rows.RawValues()
			if e.LeadID, err = pgInt(fds[0].Format, v[0]); err != nil {
				return err
			}
			if e.ID, err = pgInt(fds[1].Format, v[1]); err != nil {
				return err
			}
			e.Type, e.Name = v[2], v[3]
			if e.TS, err = pgInt(fds[4].Format, v[4]); err != nil {
				return err
			}
			if len(v) > 5 {
				e.Properties = v[5]
			}
			if len(v) > 6 {
				e.Context = v[6]
			}
			if err := fn(&e); err != nil {
				return err
			}
		}
		return wrapDB(rows.Err(), "scan events")
	})
}

// pgInt decodes a bigint in PostgreSQL's text or binary wire format.
func pgInt(format int16, b []byte) (int64, error) {
	if format == pgx.BinaryFormatCode && len(b) == 8 {
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, leadflow.Internal(err, "decode bigint")
	}
	return n, nil
}

// ScoreChange is a lead's new score, written only if the lead still has
// the UpdatedAt it was read with.
type ScoreChange struct {
	ID                     int64
	Score, Fit, Behavior   float64
	NextDecayAt, UpdatedAt time.Time
}

// UpdateScores writes score changes in the transaction, each guarded by
// the lead's UpdatedAt as read: a lead changed since (an event scored it
// meanwhile) is left alone. It returns how many leads were written.
// model_version is left as it is: the lead's stored hits still belong to
// that version, and the per-lead path rebuilds them on the lead's next
// event.
func (tx *Tx) UpdateScores(ctx context.Context, changes []ScoreChange) (int64, error) {
	if len(changes) == 0 {
		return 0, nil
	}
	for _, c := range changes {
		tx.forgetLead(c.ID) // its score keys change behind UpdateLeads' back
	}
	if tx.db.Dialect == Postgres {
		return tx.updateScoresPG(ctx, changes)
	}
	st, err := tx.PrepareContext(ctx, tx.db.q.get("BulkScoreUpdate"))
	if err != nil {
		return 0, wrapDB(err, "prepare score update")
	}
	defer st.Close()
	now := us(tx.Now)
	var n int64
	for _, c := range changes {
		res, err := st.ExecContext(ctx, c.Score, c.Fit, c.Behavior, now, nullTime(c.NextDecayAt), now, c.ID, us(c.UpdatedAt))
		if err != nil {
			return n, wrapDB(err, "score update")
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// LeadHits are the hits of one lead.
type LeadHits struct {
	LeadID int64
	Hits   []Hit
}

// ReplaceHitsOf replaces the stored hits of several leads in a few
// statements (the per-lead ReplaceHits costs a statement per hit).
func (tx *Tx) ReplaceHitsOf(ctx context.Context, leads []LeadHits) error {
	if len(leads) == 0 {
		return nil
	}
	if tx.db.Dialect == Postgres {
		return tx.replaceHitsPG(ctx, leads)
	}
	var rows [][]any
	for _, l := range leads {
		if _, err := tx.exec(ctx, "HitsDelete", l.LeadID); err != nil {
			return err
		}
		for _, h := range l.Hits {
			rows = append(rows, []any{l.LeadID, h.EventID, h.Rule, us(h.At), h.Points, h.Label})
		}
	}
	return insertRows(ctx, tx, "BulkHitInsert", rows)
}

// LeadRead says which lead fields a bulk read fills: the columns every
// bulk scorer uses (id, stage, the three scores, next_decay_at,
// updated_at), the Columns asked for (stage_at, scored_at, model_version,
// created_at) and those behind Fields, the top-level fields of `lead` the
// model's rules read (scoring.Model.LeadFields); the others are left
// zero. All (or a field or column this read does not know) reads every
// column.
type LeadRead struct {
	All     bool
	Fields  []string
	Columns []string
}

// Union is a read that fills the fields of both.
func (r LeadRead) Union(o LeadRead) LeadRead {
	return LeadRead{All: r.All || o.All, Fields: append(append([]string(nil), r.Fields...), o.Fields...),
		Columns: append(append([]string(nil), r.Columns...), o.Columns...)}
}

// leanRow is the scratch of a lean lead read.
type leanRow struct {
	l                                   leadflow.Lead
	email                               sql.NullString
	stage                               string
	stageAt, scoredAt, created, updated int64
	nextDecay                           sql.NullInt64
	ft, lt, traits, bant                string
}

// leanCols are the optional columns of a lean read, by column name.
var leanCols = map[string]func(r *leanRow) any{
	"email":         func(r *leanRow) any { return &r.email },
	"name":          func(r *leanRow) any { return &r.l.Name },
	"company":       func(r *leanRow) any { return &r.l.Company },
	"title":         func(r *leanRow) any { return &r.l.Title },
	"industry":      func(r *leanRow) any { return &r.l.Industry },
	"employees":     func(r *leanRow) any { return &r.l.Employees },
	"country":       func(r *leanRow) any { return &r.l.Country },
	"region":        func(r *leanRow) any { return &r.l.Region },
	"phone":         func(r *leanRow) any { return &r.l.Phone },
	"first_touch":   func(r *leanRow) any { return &r.ft },
	"last_touch":    func(r *leanRow) any { return &r.lt },
	"consent":       func(r *leanRow) any { return &r.l.Consent },
	"unsubscribed":  func(r *leanRow) any { return &r.l.Unsubscribed },
	"traits":        func(r *leanRow) any { return &r.traits },
	"bant":          func(r *leanRow) any { return &r.bant },
	"owner":         func(r *leanRow) any { return &r.l.Owner },
	"team":          func(r *leanRow) any { return &r.l.Team },
	"stage_at":      func(r *leanRow) any { return &r.stageAt },
	"scored_at":     func(r *leanRow) any { return &r.scoredAt },
	"model_version": func(r *leanRow) any { return &r.l.ModelVersion },
	"created_at":    func(r *leanRow) any { return &r.created },
}

// leanFieldCols maps the fields of `lead` to the optional columns behind
// them (none: a column every lean read has).
var leanFieldCols = map[string][]string{
	"email": {"email"}, "name": {"name"}, "company": {"company"}, "title": {"title"}, "industry": {"industry"},
	"employees": {"employees"}, "country": {"country"}, "region": {"region"}, "phone": {"phone"},
	"stage": nil, "score": nil, "owner": {"owner"}, "team": {"team"},
	"source": {"first_touch", "last_touch"}, "medium": {"first_touch", "last_touch"}, "campaign": {"first_touch", "last_touch"},
	"first_touch": {"first_touch", "last_touch"}, "last_touch": {"first_touch", "last_touch"},
	"unsubscribed": {"unsubscribed"}, "consent": {"consent"}, "traits": {"traits"}, "bant": {"bant"},
}

// leanColumns returns the optional columns of r in a fixed order, or
// false when r needs every column.
func (r LeadRead) leanColumns() ([]string, bool) {
	if r.All {
		return nil, false
	}
	set := map[string]bool{}
	for _, c := range r.Columns {
		if leanCols[c] == nil {
			return nil, false
		}
		set[c] = true
	}
	for _, f := range r.Fields {
		cols, ok := leanFieldCols[f]
		if !ok {
			return nil, false
		}
		for _, c := range cols {
			set[c] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, true
}

// LeadsInRangeRead is LeadsInRange filling only the fields in r: a
// rescore reads a dozen columns of a lead instead of 28.
func (db *DB) LeadsInRangeRead(ctx context.Context, lo, hi int64, r LeadRead) ([]*leadflow.Lead, error) {
	cols, ok := r.leanColumns()
	if !ok {
		return db.LeadsInRangeJSON(ctx, lo, hi, AllLeadJSON)
	}
	extra := ""
	for _, c := range cols {
		extra += ", " + c
	}
	q := strings.Replace(db.q.get("BulkLeadsLean"), "/*COLS*/", extra, 1)
	var row leanRow
	dest := []any{&row.l.ID, &row.stage, &row.l.Score, &row.l.FitScore, &row.l.BehaviorScore, &row.nextDecay, &row.updated}
	for _, c := range cols {
		dest = append(dest, leanCols[c](&row))
	}
	var out []*leadflow.Lead
	bants := map[string]leadflow.BANT{}
	add := func(sc rowScanner) error {
		row = leanRow{}
		if err := sc.Scan(dest...); err != nil {
			return wrapDB(err, "scan lead")
		}
		l := new(leadflow.Lead)
		*l = row.l
		l.Email = row.email.String
		l.Stage = leadflow.Stage(row.stage)
		l.StageAt, l.ScoredAt, l.CreatedAt, l.UpdatedAt = fromUS(row.stageAt), fromUS(row.scoredAt), fromUS(row.created), fromUS(row.updated)
		if row.nextDecay.Valid {
			l.NextDecayAt = fromUS(row.nextDecay.Int64)
		}
		if row.bant != "" && row.bant != "{}" {
			// Many leads share a BANT: decoded once per read.
			b, ok := bants[row.bant]
			if !ok {
				if err := json.Unmarshal([]byte(row.bant), &b); err != nil {
					return leadflow.Internal(err, "decode lead column")
				}
				if len(bants) < 1<<12 {
					bants[row.bant] = b
				}
			}
			if b.Timeline != nil {
				t := *b.Timeline
				b.Timeline = &t
			}
			l.BANT = b
		}
		for _, j := range []struct {
			src string
			dst any
		}{{row.ft, &l.FirstTouch}, {row.lt, &l.LastTouch}, {row.traits, &l.Traits}} {
			if j.src != "" && j.src != "{}" {
				if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
					return leadflow.Internal(err, "decode lead column")
				}
			}
		}
		out = append(out, l)
		return nil
	}
	if db.Dialect == SQLite {
		err := db.rawRows(ctx, q, []any{lo, hi}, func(v []driver.Value) error { return add(valueRow(v)) })
		return out, err
	}
	rows, err := db.Read.QueryContext(ctx, q, lo, hi)
	if err != nil {
		return nil, wrapDB(err, "leads in range")
	}
	defer rows.Close()
	for rows.Next() {
		if err := add(rows); err != nil {
			return nil, err
		}
	}
	return out, wrapDB(rows.Err(), "leads in range")
}
