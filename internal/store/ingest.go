package store

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/leadflow/leadflow"
)

// LeadIDsByIdentities returns the lead of each of values that is a known
// identity of the kind, with one statement (values absent from the map are
// unknown). Ingestion uses it to resolve a whole batch at once.
func (tx *Tx) LeadIDsByIdentities(ctx context.Context, kind string, values []string) (map[string]int64, error) {
	out := make(map[string]int64, len(values))
	if len(values) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(values)
	if err != nil {
		return nil, leadflow.Internal(err, "identities")
	}
	rows, err := tx.query(ctx, "LeadIDsByIdentities", kind, string(arg))
	if err != nil {
		return nil, wrapDB(err, "identities")
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var id int64
		if err := rows.Scan(&v, &id); err != nil {
			return nil, wrapDB(err, "identities")
		}
		out[v] = id
	}
	return out, wrapDB(rows.Err(), "identities")
}

// LeadsByIDs reads the leads with one statement; an unknown or erased id
// is left out.
func (tx *Tx) LeadsByIDs(ctx context.Context, ids []int64) ([]*leadflow.Lead, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, leadflow.Internal(err, "leads")
	}
	rows, err := tx.query(ctx, "LeadsByIDs", string(arg))
	if err != nil {
		return nil, wrapDB(err, "leads")
	}
	defer rows.Close()
	var out []*leadflow.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		tx.readLead(l)
		out = append(out, l)
	}
	return out, wrapDB(rows.Err(), "leads")
}

// HitsOfLeads reads the stored hits of the leads with one statement.
func (tx *Tx) HitsOfLeads(ctx context.Context, ids []int64) (map[int64][]Hit, error) {
	out := make(map[int64][]Hit, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, leadflow.Internal(err, "hits")
	}
	rows, err := tx.query(ctx, "HitsOfLeads", string(arg))
	if err != nil {
		return nil, wrapDB(err, "hits")
	}
	defer rows.Close()
	for rows.Next() {
		var h Hit
		var lead, at int64
		if err := rows.Scan(&lead, &h.EventID, &h.Rule, &at, &h.Points, &h.Label); err != nil {
			return nil, wrapDB(err, "scan hit")
		}
		h.At = fromUS(at)
		out[lead] = append(out[lead], h)
	}
	return out, wrapDB(rows.Err(), "hits")
}

// EventRow is one event for InsertEvents. Properties and Context are the
// JSON texts to store, when the caller has them (the request's own bytes);
// nil stores the event's maps marshalled.
type EventRow struct {
	Event               *leadflow.Event
	Properties, Context []byte
	// New is set by InsertEvents: the event was stored (and Event.ID set);
	// false for a message stored before or repeated earlier in the rows.
	New bool
}

// InsertEvents stores the events with one statement, skipping each that
// repeats a message: one with the (source, message id) of an event among
// the last ones stored (recentMsgs) or of an earlier row (the first
// occurrence is the one stored), or with the (source, message id, client
// time) of any stored event. It sets New and, for new events, Event.ID.
func (tx *Tx) InsertEvents(ctx context.Context, rows []EventRow) error {
	w := tx.db.recent
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.load(ctx, tx); err != nil {
		return err
	}
	seen, err := w.repeats(ctx, tx, rows)
	if err != nil {
		return err
	}
	type key struct {
		source int64
		msg    string
	}
	at := make(map[key]int, len(rows))
	buf := make([]byte, 0, 1024*len(rows))
	buf = append(buf, '[')
	n := 0
	for i := range rows {
		r := &rows[i]
		r.New = false
		e := r.Event
		k := key{e.SourceID, e.MessageID}
		if _, dup := at[k]; dup || seen[i] {
			continue
		}
		at[k] = i
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		buf = append(buf, '[')
		buf = strconv.AppendInt(buf, e.SourceID, 10)
		buf = append(buf, ',')
		buf = appendJSONString(buf, e.MessageID)
		buf = append(buf, ',')
		if e.LeadID != 0 {
			buf = strconv.AppendInt(buf, e.LeadID, 10)
		} else {
			buf = append(buf, "null"...)
		}
		for _, s := range [...]string{e.AnonymousID, e.UserID, string(e.Type), e.Name} {
			buf = append(buf, ',')
			buf = appendJSONString(buf, s)
		}
		buf = append(buf, ',')
		buf = appendJSONObject(buf, r.Properties, e.Properties)
		buf = append(buf, ',')
		buf = appendJSONObject(buf, r.Context, e.Context)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, us(e.Timestamp), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, us(e.ReceivedAt), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, us(e.ClientTime), 10)
		buf = append(buf, ']')
	}
	if n == 0 {
		return nil
	}
	buf = append(buf, ']')
	res, err := tx.query(ctx, "EventsInsert", string(buf))
	if err != nil {
		return wrapDB(err, "insert events")
	}
	defer res.Close()
	for res.Next() {
		var k key
		var id int64
		if err := res.Scan(&id, &k.source, &k.msg); err != nil {
			return wrapDB(err, "insert events")
		}
		i, ok := at[k]
		if !ok {
			return leadflow.Errorf(leadflow.EINTERNAL, "insert events: unexpected message id %q", k.msg)
		}
		rows[i].New, rows[i].Event.ID = true, id
		w.add(k.source, k.msg, id)
	}
	return wrapDB(res.Err(), "insert events")
}

// LeadHit is a hit of one lead, for InsertLeadHits.
type LeadHit struct {
	LeadID int64
	Hit
}

// InsertLeadHits stores hits of any leads with one statement; a hit
// already stored is ignored.
func (tx *Tx) InsertLeadHits(ctx context.Context, hits []LeadHit) error {
	if len(hits) == 0 {
		return nil
	}
	buf := make([]byte, 0, 96*len(hits))
	buf = append(buf, '[')
	for i, h := range hits {
		if math.IsNaN(h.Points) || math.IsInf(h.Points, 0) {
			return leadflow.Errorf(leadflow.EINTERNAL, "rule %s has %v points", h.Rule, h.Points)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = strconv.AppendInt(buf, h.LeadID, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, h.EventID, 10)
		buf = append(buf, ',')
		buf = appendJSONString(buf, h.Rule)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, us(h.At), 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, h.Points, 'g', -1, 64)
		buf = append(buf, ',')
		buf = appendJSONString(buf, h.Label)
		buf = append(buf, ']')
	}
	buf = append(buf, ']')
	_, err := tx.exec(ctx, "HitsInsert", string(buf))
	return err
}

// maxNesting bounds the depth of an object embedded as JSON in a row
// argument: SQLite refuses JSON nested over 1,000 levels, so a deeper one
// goes as a string of its text. The statements read both with ->>, which
// gives an object's text and a string's content.
const maxNesting = 500

// appendJSONObject appends raw (a JSON object as received) or, without
// it, m marshalled; {} for nothing.
func appendJSONObject(buf, raw []byte, m map[string]any) []byte {
	if len(raw) == 0 || raw[0] != '{' {
		raw = []byte(jsonText(m))
	}
	if nesting(raw) > maxNesting {
		return appendJSONString(buf, string(raw))
	}
	return append(buf, raw...)
}

// nesting returns the deepest nesting of objects and arrays in JSON text.
func nesting(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > deepest {
				deepest = depth
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// AnonymousLink is an anonymous id newly linked to a lead.
type AnonymousLink struct {
	AnonymousID string
	LeadID      int64
}

// AttachAnonymousMany links the stored events of each visitor (those with
// no lead yet) to the visitor's lead with one statement and returns them,
// in no particular order (AnonymousID tells whose they are), so the caller
// can score them.
func (tx *Tx) AttachAnonymousMany(ctx context.Context, links []AnonymousLink) ([]leadflow.Event, error) {
	if len(links) == 0 {
		return nil, nil
	}
	buf := make([]byte, 0, 64*len(links))
	buf = append(buf, '[')
	for i, l := range links {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = appendJSONString(buf, l.AnonymousID)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, l.LeadID, 10)
		buf = append(buf, ']')
	}
	buf = append(buf, ']')
	rows, err := tx.query(ctx, "EventsAttachAnonymousMany", string(buf))
	if err != nil {
		return nil, wrapDB(err, "attach anonymous events")
	}
	return scanEvents(rows)
}

// AttachAnonymous links the visitor's stored events with no lead to the
// lead and returns them, oldest first, so the caller can score them.
func (tx *Tx) AttachAnonymous(ctx context.Context, anonymousID string, leadID int64) ([]leadflow.Event, error) {
	events, err := tx.AttachAnonymousMany(ctx, []AnonymousLink{{AnonymousID: anonymousID, LeadID: leadID}})
	slices.SortFunc(events, func(a, b leadflow.Event) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return events, err
}
