package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/leadflow/leadflow"
)

// Hit is one behavior rule an event matched under the active model. A
// lead's behavior score is computed from its hits alone.
type Hit struct {
	EventID int64
	Rule    string
	At      time.Time
	Points  float64
	Label   string
}

// InsertHits stores hits of one lead; a hit already stored is ignored.
func (tx *Tx) InsertHits(ctx context.Context, leadID int64, hits []Hit) error {
	if len(hits) > 1 {
		rows := make([]LeadHit, len(hits))
		for i, h := range hits {
			rows[i] = LeadHit{LeadID: leadID, Hit: h}
		}
		return tx.InsertLeadHits(ctx, rows)
	}
	for _, h := range hits {
		if _, err := tx.exec(ctx, "HitInsert", leadID, h.EventID, h.Rule, us(h.At), h.Points, h.Label); err != nil {
			return err
		}
	}
	return nil
}

// HitsOfLead returns the stored hits of a lead (in no particular order).
func (tx *Tx) HitsOfLead(ctx context.Context, leadID int64) ([]Hit, error) {
	return hitsOfLead(ctx, prepared{tx}, tx.db.q, leadID)
}

// HitsOfLead reads a lead's hits outside a transaction.
func (db *DB) HitsOfLead(ctx context.Context, leadID int64) ([]Hit, error) {
	return hitsOfLead(ctx, db.Read, db.q, leadID)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func hitsOfLead(ctx context.Context, db querier, q queries, leadID int64) ([]Hit, error) {
	rows, err := db.QueryContext(ctx, q.get("HitsOfLead"), leadID)
	if err != nil {
		return nil, wrapDB(err, "hits")
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		var at int64
		if err := rows.Scan(&h.EventID, &h.Rule, &at, &h.Points, &h.Label); err != nil {
			return nil, wrapDB(err, "scan hit")
		}
		h.At = fromUS(at)
		out = append(out, h)
	}
	return out, wrapDB(rows.Err(), "hits")
}

// ReplaceHits drops a lead's hits and stores new ones (after a model change).
func (tx *Tx) ReplaceHits(ctx context.Context, leadID int64, hits []Hit) error {
	if _, err := tx.exec(ctx, "HitsDelete", leadID); err != nil {
		return err
	}
	return tx.InsertHits(ctx, leadID, hits)
}

// InsertTransition records a stage change.
func (tx *Tx) InsertTransition(ctx context.Context, t *leadflow.Transition) error {
	if t.At.IsZero() {
		t.At = tx.Now
	}
	expl := string(t.Explanation)
	if expl == "" {
		expl = "{}"
	}
	err := tx.queryRow(ctx, "TransitionInsert", t.LeadID, string(t.From), string(t.To), us(t.At), t.Cause,
		t.Reason, t.Score, expl).Scan(&t.ID)
	return wrapDB(err, "insert transition")
}

// TransitionsOfLead returns a lead's stage history, oldest first.
func (db *DB) TransitionsOfLead(ctx context.Context, leadID int64) ([]leadflow.Transition, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("TransitionsOfLead"), leadID)
	if err != nil {
		return nil, wrapDB(err, "transitions")
	}
	defer rows.Close()
	var out []leadflow.Transition
	for rows.Next() {
		var t leadflow.Transition
		var from, to, expl string
		var at int64
		if err := rows.Scan(&t.ID, &t.LeadID, &from, &to, &at, &t.Cause, &t.Reason, &t.Score, &expl); err != nil {
			return nil, wrapDB(err, "scan transition")
		}
		t.From, t.To, t.At = leadflow.Stage(from), leadflow.Stage(to), fromUS(at)
		if expl != "{}" {
			t.Explanation = []byte(expl)
		}
		out = append(out, t)
	}
	return out, wrapDB(rows.Err(), "transitions")
}

// Audit records who did what to which entity.
func (tx *Tx) Audit(ctx context.Context, actor, action, entity string, entityID int64, detail string) error {
	_, err := tx.exec(ctx, "AuditInsert", us(tx.Now), actor, action, entity, entityID, detail)
	return err
}

// AuditEntry is one audit record.
type AuditEntry struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Entity   string    `json:"entity"`
	EntityID int64     `json:"entity_id"`
	Detail   string    `json:"detail"`
}

// AuditOf lists the audit records of an entity.
func (db *DB) AuditOf(ctx context.Context, entity string, id int64) ([]AuditEntry, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("AuditOfEntity"), entity, id)
	if err != nil {
		return nil, wrapDB(err, "audit")
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.Actor, &a.Action, &a.Entity, &a.EntityID, &a.Detail); err != nil {
			return nil, wrapDB(err, "scan audit")
		}
		a.At = fromUS(at)
		out = append(out, a)
	}
	return out, wrapDB(rows.Err(), "audit")
}
