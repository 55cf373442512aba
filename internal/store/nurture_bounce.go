package store

import (
	"context"
	"time"

	"github.com/leadflow/leadflow"
)

// Bounce kinds.
const (
	BounceHard = "hard"
	BounceSoft = "soft"
)

// Bounce is one bounce of an address, reported by the SMTP server during
// the conversation or afterwards (a DSN, the provider's webhook).
type Bounce struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Kind      string    `json:"type" enum:"hard,soft"`
	Reason    string    `json:"reason,omitempty"`
	MessageID string    `json:"message_id,omitempty"`
	LeadID    int64     `json:"lead_id,omitempty"`
	SendID    int64     `json:"send_id,omitempty"`
	At        time.Time `json:"at"`
}

// RecordBounce stores a bounce (email normalised). It reports false when
// the same bounce was recorded before — the same address, kind and time,
// or the same message id and kind — so a report delivered twice counts
// once.
func (tx *Tx) RecordBounce(ctx context.Context, b *Bounce) (bool, error) {
	b.Email = NormalizeEmail(b.Email)
	if b.MessageID != "" {
		var n int
		if err := tx.queryRow(ctx, "NurtureBounceOfMessage", b.MessageID, b.Kind).Scan(&n); err != nil {
			return false, wrapDB(err, "bounce of message")
		}
		if n > 0 {
			return false, nil
		}
	}
	var lead, send any
	if b.LeadID != 0 {
		lead = b.LeadID
	}
	if b.SendID != 0 {
		send = b.SendID
	}
	err := tx.queryRow(ctx, "NurtureBounceInsert", b.Email, b.Kind, b.Reason, b.MessageID, lead, send, us(b.At), us(tx.Now)).Scan(&b.ID)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return false, nil
	}
	return err == nil, wrapDB(err, "record bounce")
}

// CountBounces counts the address's bounces of a kind after since.
func (tx *Tx) CountBounces(ctx context.Context, email, kind string, since time.Time) (int, error) {
	var n int
	err := tx.queryRow(ctx, "NurtureBounceCount", NormalizeEmail(email), kind, us(since)).Scan(&n)
	return n, wrapDB(err, "count bounces")
}

// SendByMessageID finds the send whose email carried that Message-ID
// (without angle brackets).
func (tx *Tx) SendByMessageID(ctx context.Context, messageID string) (*Send, error) {
	s, err := scanSend(tx.queryRow(ctx, "NurtureSendByMessageID", messageID))
	return s, notFound(err, "no nurture email with message id %q", messageID)
}

// MarkSendBounced records a bounce on a send: the first bounce's time
// stays, and a hard bounce is never downgraded to soft.
func (tx *Tx) MarkSendBounced(ctx context.Context, id int64, kind string, at time.Time) error {
	_, err := tx.exec(ctx, "NurtureSendBounced", us(at), kind, id)
	return err
}

// SendsOfEnrolment lists the sends of an enrolment by step.
func (db *DB) SendsOfEnrolment(ctx context.Context, enrolmentID int64) ([]Send, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("NurtureSendsOfEnrolment"), enrolmentID)
	if err != nil {
		return nil, wrapDB(err, "sends")
	}
	defer rows.Close()
	out := []Send{}
	for rows.Next() {
		s, err := scanSend(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, wrapDB(rows.Err(), "sends")
}

// reportBounces adds the bounce counts of a sequence's steps to a report.
func (db *DB) reportBounces(ctx context.Context, seqID int64, at func(int) *StepCounts) error {
	rows, err := db.Read.QueryContext(ctx, db.q.get("NurtureReportBounces"), seqID)
	if err != nil {
		return wrapDB(err, "report")
	}
	defer rows.Close()
	for rows.Next() {
		var step, n, hard int
		if err := rows.Scan(&step, &n, &hard); err != nil {
			return wrapDB(err, "report")
		}
		c := at(step)
		c.Bounced, c.HardBounced = c.Bounced+n, c.HardBounced+hard
	}
	return wrapDB(rows.Err(), "report")
}
