package store

import (
	"context"
	"time"

	"github.com/leadflow/leadflow"
)

// Touch kinds.
const (
	TouchCall    = "call"
	TouchEmail   = "email"
	TouchMeeting = "meeting"
	TouchOther   = "other"
)

// Touch is a call, email or meeting that sales logged for a lead.
type Touch struct {
	ID        int64     `json:"id"`
	LeadID    int64     `json:"lead_id"`
	Actor     string    `json:"actor"`
	Kind      string    `json:"kind" enum:"call,email,meeting,other"`
	Outcome   string    `json:"outcome,omitempty"`
	Note      string    `json:"note,omitempty"`
	At        time.Time `json:"at"`
	CreatedAt time.Time `json:"created_at"`
}

// InsertTouch records a touch.
func (tx *Tx) InsertTouch(ctx context.Context, t *Touch) error {
	switch t.Kind {
	case TouchCall, TouchEmail, TouchMeeting, TouchOther:
	default:
		return leadflow.Invalidf("kind", "unknown touch kind %q: use call, email, meeting or other", t.Kind)
	}
	if t.At.IsZero() {
		t.At = tx.Now
	}
	t.CreatedAt = tx.Now
	err := tx.queryRow(ctx, "TouchInsert", t.LeadID, t.Actor, t.Kind, t.Outcome, t.Note, us(t.At), us(t.CreatedAt)).Scan(&t.ID)
	return wrapDB(err, "insert touch")
}

// TouchesOfLead lists a lead's touches, newest first.
func (db *DB) TouchesOfLead(ctx context.Context, leadID int64) ([]Touch, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("TouchesOfLead"), leadID)
	if err != nil {
		return nil, wrapDB(err, "touches")
	}
	defer rows.Close()
	out := []Touch{}
	for rows.Next() {
		var t Touch
		var at, created int64
		if err := rows.Scan(&t.ID, &t.LeadID, &t.Actor, &t.Kind, &t.Outcome, &t.Note, &at, &created); err != nil {
			return nil, wrapDB(err, "scan touch")
		}
		t.At, t.CreatedAt = fromUS(at), fromUS(created)
		out = append(out, t)
	}
	return out, wrapDB(rows.Err(), "touches")
}

// Deal statuses.
const (
	DealOpen = "open"
	DealWon  = "won"
	DealLost = "lost"
)

// Deal is an opportunity in the CRM, linked to a lead.
type Deal struct {
	ID         int64     `json:"id"`
	LeadID     int64     `json:"lead_id"`
	ExternalID string    `json:"external_id"`
	Name       string    `json:"name,omitempty"`
	Status     string    `json:"status" enum:"open,won,lost"`
	Amount     float64   `json:"amount"`
	Currency   string    `json:"currency"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func scanDeal(r rowScanner) (*Deal, error) {
	var d Deal
	var at, updated int64
	if err := r.Scan(&d.ID, &d.LeadID, &d.ExternalID, &d.Name, &d.Status, &d.Amount, &d.Currency, &d.Reason, &at, &updated); err != nil {
		return nil, wrapDB(err, "scan deal")
	}
	d.At, d.UpdatedAt = fromUS(at), fromUS(updated)
	return &d, nil
}

// UpsertDeal inserts or updates a deal by its external (CRM) id and
// returns the previous version (nil for a new deal).
func (tx *Tx) UpsertDeal(ctx context.Context, d *Deal) (*Deal, error) {
	switch d.Status {
	case DealOpen, DealWon, DealLost:
	default:
		return nil, leadflow.Invalidf("status", "unknown deal status %q: use open, won or lost", d.Status)
	}
	if d.ExternalID == "" {
		return nil, leadflow.Invalidf("external_id", "a deal needs the CRM's id (external_id)")
	}
	if d.Currency == "" {
		d.Currency = "JPY"
	}
	if d.At.IsZero() {
		d.At = tx.Now
	}
	d.UpdatedAt = tx.Now
	prev, err := scanDeal(tx.queryRow(ctx, "DealByExternalID", d.ExternalID))
	switch {
	case err == nil:
		d.ID = prev.ID
		_, err = tx.exec(ctx, "DealUpdate", d.LeadID, d.Name, d.Status, d.Amount, d.Currency, d.Reason, us(d.At), us(d.UpdatedAt), d.ID)
		return prev, err
	case leadflow.ErrorCode(err) == leadflow.ENOTFOUND:
		err = tx.queryRow(ctx, "DealInsert", d.LeadID, d.ExternalID, d.Name, d.Status, d.Amount, d.Currency, d.Reason,
			us(d.At), us(d.UpdatedAt)).Scan(&d.ID)
		return nil, wrapDB(err, "insert deal")
	default:
		return nil, err
	}
}

// DealsOfLead lists a lead's deals, newest first.
func (db *DB) DealsOfLead(ctx context.Context, leadID int64) ([]Deal, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("DealsOfLead"), leadID)
	if err != nil {
		return nil, wrapDB(err, "deals")
	}
	defer rows.Close()
	out := []Deal{}
	for rows.Next() {
		d, err := scanDeal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, wrapDB(rows.Err(), "deals")
}

// DealByExternalID returns the deal with the CRM's id.
func (db *DB) DealByExternalID(ctx context.Context, externalID string) (*Deal, error) {
	d, err := scanDeal(db.queryRow(ctx, "DealByExternalID", externalID))
	return d, notFound(err, "no deal with external_id %s", externalID)
}
