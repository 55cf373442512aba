package store

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/leadflow/leadflow"
)

// loaderBatch is how many events a Loader buffers before writing them, with
// their leads, in one transaction.
const loaderBatch = 200_000

// Loader writes a generated history straight into the leads, identities
// and events tables in large transactions: COPY on PostgreSQL, multi-row
// INSERTs on SQLite. It bypasses ingestion entirely (no deduplication, no
// scoring, no identity resolution), so it is only for loading histories
// whose ids and links are already consistent, such as internal/gen's;
// score them afterwards with a full rescore.
//
// Record ids are taken as dense numbers from 1 and shifted past the ids
// already in the database, so a history can be loaded into a database
// that has data.
type Loader struct {
	db                  *DB
	sourceID            int64
	leadBase, eventBase int64
	leads               [][]any
	idents              [][]any
	events              [][]any
	json                jsonCache
	// Leads and Events count what was written so far.
	Leads, Events int64
}

// NewLoader prepares a load whose events all belong to sourceID.
func (db *DB) NewLoader(ctx context.Context, sourceID int64) (*Loader, error) {
	l := &Loader{db: db, sourceID: sourceID, json: jsonCache{m: map[uintptr]cachedJSON{}}}
	if err := db.queryRow(ctx, "BulkMaxLeadID").Scan(&l.leadBase); err != nil {
		return nil, wrapDB(err, "max lead id")
	}
	if err := db.queryRow(ctx, "BulkMaxEventID").Scan(&l.eventBase); err != nil {
		return nil, wrapDB(err, "max event id")
	}
	if db.Dialect == SQLite {
		// Inserting millions of random message ids into the unique index
		// thrashes SQLite's default 2 MB page cache: give the (single)
		// write connection 1 GiB while loading.
		if _, err := db.Write.ExecContext(ctx, "PRAGMA cache_size = -1048576"); err != nil {
			return nil, wrapDB(err, "cache size")
		}
	}
	return l, nil
}

// LeadID returns the stored id of the record with id recID.
func (l *Loader) LeadID(recID int64) int64 { return l.leadBase + recID }

// Add buffers one lead with its events (ids as generated) and writes the
// buffer when it is full. The lead's external and anonymous ids become its
// identities. Nothing of lead or events is kept after Add returns.
func (l *Loader) Add(ctx context.Context, lead *leadflow.Lead, events []leadflow.Event) error {
	id := l.LeadID(lead.ID)
	email := NormalizeEmail(lead.Email)
	created, updated := us(lead.CreatedAt), us(lead.UpdatedAt)
	stageAt := us(lead.StageAt)
	if stageAt == 0 {
		stageAt = created
	}
	stage := string(lead.Stage)
	if stage == "" {
		stage = string(leadflow.StageLead)
	}
	l.leads = append(l.leads, []any{id, nullString(email), lead.Name, lead.Company, lead.Title, lead.Industry,
		int64(lead.Employees), lead.Country, lead.Region, lead.Phone, jsonText(lead.FirstTouch), jsonText(lead.LastTouch),
		lead.FirstTouch.Source, lead.FirstTouch.Campaign, lead.Consent, lead.Unsubscribed,
		l.json.text(lead.Traits), jsonText(lead.BANT), stage, stageAt,
		lead.Score, lead.FitScore, lead.BehaviorScore, us(lead.ScoredAt), nullTime(lead.NextDecayAt),
		int64(lead.ModelVersion), lead.Owner, created, updated})
	for _, v := range lead.ExternalIDs {
		l.idents = append(l.idents, []any{IdentityUser, v, id, created})
	}
	for _, v := range lead.AnonymousIDs {
		l.idents = append(l.idents, []any{IdentityAnonymous, v, id, created})
	}
	for i := range events {
		e := &events[i]
		var leadID any
		if e.LeadID != 0 {
			leadID = l.leadBase + e.LeadID
		}
		l.events = append(l.events, []any{l.eventBase + e.ID, l.sourceID, e.MessageID, leadID, e.AnonymousID, e.UserID,
			string(e.Type), e.Name, l.json.text(e.Properties), l.json.text(e.Context), us(e.Timestamp), us(e.ReceivedAt)})
	}
	if len(l.events) >= loaderBatch {
		return l.Flush(ctx)
	}
	return nil
}

// Flush writes what is buffered in one transaction.
func (l *Loader) Flush(ctx context.Context) error {
	if len(l.leads) == 0 && len(l.events) == 0 {
		return nil
	}
	var err error
	if l.db.Dialect == Postgres {
		err = l.flushPG(ctx)
	} else {
		err = l.db.InTx(ctx, func(tx *Tx) error {
			if err := insertRows(ctx, tx, "BulkLeadInsert", l.leads); err != nil {
				return err
			}
			if err := insertRows(ctx, tx, "BulkIdentityInsert", l.idents); err != nil {
				return err
			}
			return insertRows(ctx, tx, "BulkEventInsert", l.events)
		})
	}
	if err != nil {
		return err
	}
	l.Leads += int64(len(l.leads))
	l.Events += int64(len(l.events))
	l.leads, l.idents, l.events = l.leads[:0], l.idents[:0], l.events[:0]
	return nil
}

// Close writes the rest and refreshes the planner statistics (and, on
// PostgreSQL, moves the id sequences past the loaded ids).
func (l *Loader) Close(ctx context.Context) error {
	if err := l.Flush(ctx); err != nil {
		return err
	}
	// SQLite: back to the default cache; no ANALYZE (it reads every index
	// in full, and the planner picks the right indexes without statistics).
	stmts := []string{"PRAGMA cache_size = -2000"}
	if l.db.Dialect == Postgres {
		stmts = pgAfterLoad
	}
	for _, s := range stmts {
		if _, err := l.db.Write.ExecContext(ctx, s); err != nil {
			return wrapDB(err, "after load")
		}
	}
	return nil
}

// pgAfterLoad moves the identity sequences past the ids the load chose.
var pgAfterLoad = []string{
	`SELECT setval(pg_get_serial_sequence('leads', 'id'), greatest((SELECT max(id) FROM leads), 1))`,
	`SELECT setval(pg_get_serial_sequence('events', 'id'), greatest((SELECT max(id) FROM events), 1))`,
	`ANALYZE leads`, `ANALYZE lead_identities`, `ANALYZE events`,
}

// sqliteMaxParams stays under SQLite's default limit of 32766 variables.
const sqliteMaxParams = 30000

// insertRows runs a named one-row INSERT as multi-row statements: the
// VALUES tuple of the named query is repeated for as many rows as fit.
func insertRows(ctx context.Context, tx *Tx, name string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	q := tx.db.q.get(name)
	i := strings.LastIndex(q, "VALUES")
	head, tuple := q[:i+len("VALUES")], strings.TrimSpace(q[i+len("VALUES"):])
	cols := len(rows[0])
	per := min(sqliteMaxParams/cols, 500)
	build := func(n int) string {
		var b strings.Builder
		b.WriteString(head)
		for j := range n {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(tuple)
		}
		return b.String()
	}
	full, err := tx.PrepareContext(ctx, build(per))
	if err != nil {
		return wrapDB(err, "prepare "+name)
	}
	defer full.Close()
	args := make([]any, 0, per*cols)
	for len(rows) > 0 {
		n := min(per, len(rows))
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if n == per {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, build(n), args...)
		}
		if err != nil {
			return wrapDB(err, name)
		}
		rows = rows[n:]
	}
	return nil
}

// Columns of the COPY statements, in the order of the buffered rows.
var (
	copyLeadCols = []string{"id", "email", "name", "company", "title", "industry", "employees", "country", "region", "phone",
		"first_touch", "last_touch", "source", "campaign", "consent", "unsubscribed", "traits", "bant", "stage", "stage_at",
		"score", "fit_score", "behavior_score", "scored_at", "next_decay_at", "model_version", "owner",
		"created_at", "updated_at"}
	copyIdentityCols = []string{"kind", "value", "lead_id", "created_at"}
	copyEventCols    = []string{"id", "source_id", "message_id", "lead_id", "anonymous_id", "user_id", "type", "name",
		"properties", "context", "ts", "received_at"}
)

// flushPG copies the buffer in one transaction on one pgx connection.
func (l *Loader) flushPG(ctx context.Context) error {
	conn, err := l.db.Write.Conn(ctx)
	if err != nil {
		return wrapDB(err, "load")
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return wrapDB(err, "load: begin")
		}
		defer func() { _ = tx.Rollback(ctx) }()
		for _, c := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{{"leads", copyLeadCols, l.leads}, {"lead_identities", copyIdentityCols, l.idents}, {"events", copyEventCols, l.events}} {
			if len(c.rows) == 0 {
				continue
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
				return wrapDB(err, "copy "+c.table)
			}
		}
		return wrapDB(tx.Commit(ctx), "load: commit")
	})
}

// jsonCache encodes the property and context maps of generated events
// once per map: the generator shares a few hundred maps among millions of
// events. Keys are map identities; the cache holds the maps it has seen so
// that an address cannot be reused by another map while its entry lives,
// and it starts over when it grows large (maps built per event).
type jsonCache struct {
	m map[uintptr]cachedJSON
}

type cachedJSON struct {
	v    map[string]any
	text string
}

const jsonCacheMax = 1 << 16

func (c *jsonCache) text(v map[string]any) string {
	if len(v) == 0 {
		return "{}"
	}
	p := reflect.ValueOf(v).Pointer()
	if e, ok := c.m[p]; ok {
		return e.text
	}
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = "{}"
	}
	if len(c.m) >= jsonCacheMax {
		clear(c.m)
	}
	c.m[p] = cachedJSON{v: v, text: s}
	return s
}
