package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"

	"github.com/leadflow/leadflow"
)

// InsertEvent stores e unless its (source, message id, client time) was
// seen before. It
// reports whether the event is new and sets e.ID when it is.
func (tx *Tx) InsertEvent(ctx context.Context, e *leadflow.Event) (bool, error) {
	var leadID any
	if e.LeadID != 0 {
		leadID = e.LeadID
	}
	err := tx.queryRow(ctx, "EventInsert", e.SourceID, e.MessageID, leadID, e.AnonymousID, e.UserID,
		string(e.Type), e.Name, jsonText(e.Properties), jsonText(e.Context), us(e.Timestamp), us(e.ReceivedAt),
		us(e.ClientTime)).Scan(&e.ID)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return false, nil // ON CONFLICT DO NOTHING returned no row: a retry
	}
	if err != nil {
		return false, wrapDB(err, "insert event")
	}
	return true, nil
}

// EventsOfLead returns every event of a lead in time order.
func (tx *Tx) EventsOfLead(ctx context.Context, leadID int64) ([]leadflow.Event, error) {
	return eventsOfLead(ctx, prepared{tx}, tx.db.q, leadID)
}

// EventsOfLead reads a lead's events outside a transaction.
func (db *DB) EventsOfLead(ctx context.Context, leadID int64) ([]leadflow.Event, error) {
	return eventsOfLead(ctx, db.Read, db.q, leadID)
}

func eventsOfLead(ctx context.Context, db querier, q queries, leadID int64) ([]leadflow.Event, error) {
	rows, err := db.QueryContext(ctx, q.get("EventsOfLead"), leadID)
	if err != nil {
		return nil, wrapDB(err, "events of lead")
	}
	return scanEvents(rows)
}

// CountEvents counts stored events.
func (db *DB) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	err := db.queryRow(ctx, "EventCount").Scan(&n)
	return n, wrapDB(err, "count events")
}

func scanEvents(rows *sql.Rows) ([]leadflow.Event, error) {
	defer rows.Close()
	var out []leadflow.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, wrapDB(rows.Err(), "scan events")
}

func scanEvent(r rowScanner) (*leadflow.Event, error) {
	var (
		e           leadflow.Event
		leadID      sql.NullInt64
		typ         string
		props, cntx string
		ts, recv    int64
	)
	if err := r.Scan(&e.ID, &e.SourceID, &e.MessageID, &leadID, &e.AnonymousID, &e.UserID, &typ, &e.Name,
		&props, &cntx, &ts, &recv); err != nil {
		return nil, wrapDB(err, "scan event")
	}
	e.LeadID = leadID.Int64
	e.Type = leadflow.EventType(typ)
	e.Timestamp, e.ReceivedAt = fromUS(ts), fromUS(recv)
	if props != "{}" {
		if err := json.Unmarshal([]byte(props), &e.Properties); err != nil {
			return nil, leadflow.Internal(err, "decode event properties")
		}
	}
	if cntx != "{}" {
		if err := json.Unmarshal([]byte(cntx), &e.Context); err != nil {
			return nil, leadflow.Internal(err, "decode event context")
		}
	}
	return &e, nil
}

// TimelinePage is one page of a lead's events, newest first.
func (db *DB) Timeline(ctx context.Context, leadID int64, cursor string, limit int) ([]leadflow.Event, string, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		return nil, "", leadflow.Invalidf("limit", "limit %d is over the maximum of 500", limit)
	}
	q := `SELECT id, source_id, message_id, lead_id, anonymous_id, user_id, type, name, properties, context, ts, received_at
FROM events WHERE lead_id = ?`
	args := []any{leadID}
	if cursor != "" {
		v, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		ts, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, "", leadflow.Invalidf("cursor", "malformed cursor")
		}
		q += " AND (ts < ? OR (ts = ? AND id < ?))"
		args = append(args, ts, ts, id)
	}
	q += " ORDER BY ts DESC, id DESC LIMIT " + strconv.Itoa(limit+1)
	rows, err := db.Read.QueryContext(ctx, db.Dialect.Rebind(q), args...)
	if err != nil {
		return nil, "", wrapDB(err, "timeline")
	}
	events, err := scanEvents(rows)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(events) > limit {
		events = events[:limit]
		last := events[limit-1]
		next = encodeCursor(strconv.FormatInt(us(last.Timestamp), 10), last.ID)
	}
	return events, next, nil
}
