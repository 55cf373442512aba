package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// Identity kinds in lead_identities.
const (
	IdentityUser      = "user"
	IdentityAnonymous = "anon"
)

type rowScanner interface{ Scan(dest ...any) error }

func scanLead(r rowScanner) (*leadflow.Lead, error) { return scanLeadJSON(r, AllLeadJSON) }

// scanLeadJSON is scanLead decoding only the JSON columns in j.
func scanLeadJSON(r rowScanner, j LeadJSON) (*leadflow.Lead, error) {
	var (
		l                                   leadflow.Lead
		email                               sql.NullString
		ft, lt, traits, bant                string
		stage                               string
		stageAt, scoredAt, created, updated int64
		nextDecay                           sql.NullInt64
	)
	err := r.Scan(&l.ID, &email, &l.Name, &l.Company, &l.Title, &l.Industry, &l.Employees,
		&l.Country, &l.Region, &l.Phone, &ft, &lt, &l.Consent, &l.Unsubscribed, &traits, &bant,
		&stage, &stageAt, &l.Score, &l.FitScore, &l.BehaviorScore, &scoredAt, &nextDecay,
		&l.ModelVersion, &l.Owner, &l.Team, &created, &updated)
	if err != nil {
		return nil, wrapDB(err, "scan lead")
	}
	l.Email = email.String
	l.Stage = leadflow.Stage(stage)
	l.StageAt, l.ScoredAt, l.CreatedAt, l.UpdatedAt = fromUS(stageAt), fromUS(scoredAt), fromUS(created), fromUS(updated)
	if nextDecay.Valid {
		l.NextDecayAt = fromUS(nextDecay.Int64)
	}
	for _, j := range []struct {
		src  string
		dst  any
		want bool
	}{{ft, &l.FirstTouch, j.Attribution}, {lt, &l.LastTouch, j.Attribution}, {traits, &l.Traits, j.Traits}, {bant, &l.BANT, j.BANT}} {
		if j.want && j.src != "" && j.src != "{}" {
			if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
				return nil, leadflow.Internal(err, "decode lead column")
			}
		}
	}
	return &l, nil
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "{}"
	}
	return string(b)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return us(t)
}

// NormalizeEmail lowercases and trims an address; leads are unique by it.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// FindLead returns the lead with the id, or ENOTFOUND.
func (tx *Tx) FindLead(ctx context.Context, id int64) (*leadflow.Lead, error) {
	l, err := scanLead(tx.queryRow(ctx, "LeadByID", id))
	if err == nil {
		tx.readLead(l)
	}
	return l, notFound(err, "lead %d not found", id)
}

// FindLead reads a lead outside a transaction.
func (db *DB) FindLead(ctx context.Context, id int64) (*leadflow.Lead, error) {
	l, err := scanLead(db.queryRow(ctx, "LeadByID", id))
	if err != nil {
		return nil, notFound(err, "lead %d not found", id)
	}
	return l, db.fillIdentities(ctx, db.Read, l)
}

// FindLeadByEmail returns the lead with the (normalised) email.
func (tx *Tx) FindLeadByEmail(ctx context.Context, email string) (*leadflow.Lead, error) {
	l, err := scanLead(tx.queryRow(ctx, "LeadByEmail", NormalizeEmail(email)))
	if err == nil {
		tx.readLead(l)
	}
	return l, notFound(err, "no lead with email %s", email)
}

// FindLeadByEmail reads a lead by email outside a transaction.
func (db *DB) FindLeadByEmail(ctx context.Context, email string) (*leadflow.Lead, error) {
	l, err := scanLead(db.queryRow(ctx, "LeadByEmail", NormalizeEmail(email)))
	if err != nil {
		return nil, notFound(err, "no lead with email %s", email)
	}
	return l, db.fillIdentities(ctx, db.Read, l)
}

// LeadIDByIdentity returns the lead known by a user or anonymous id.
func (tx *Tx) LeadIDByIdentity(ctx context.Context, kind, value string) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, "LeadIDByIdentity", kind, value).Scan(&id)
	return id, notFound(wrapDB(err, "identity"), "unknown %s id %s", kind, value)
}

// AddIdentity links a user or anonymous id to a lead. It reports whether
// the link is new; an id already linked (to any lead) is left alone.
func (tx *Tx) AddIdentity(ctx context.Context, kind, value string, leadID int64) (bool, error) {
	res, err := tx.exec(ctx, "IdentityInsert", kind, value, leadID, us(tx.Now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (db *DB) fillIdentities(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, l *leadflow.Lead) error {
	rows, err := q.QueryContext(ctx, db.q.get("IdentitiesOfLead"), l.ID)
	if err != nil {
		return wrapDB(err, "identities")
	}
	defer rows.Close()
	for rows.Next() {
		var kind, value string
		if err := rows.Scan(&kind, &value); err != nil {
			return wrapDB(err, "identities")
		}
		if kind == IdentityUser {
			l.ExternalIDs = append(l.ExternalIDs, value)
		} else {
			l.AnonymousIDs = append(l.AnonymousIDs, value)
		}
	}
	return wrapDB(rows.Err(), "identities")
}

// FillIdentities loads the external and anonymous ids of l.
func (tx *Tx) FillIdentities(ctx context.Context, l *leadflow.Lead) error {
	l.ExternalIDs, l.AnonymousIDs = nil, nil
	return tx.db.fillIdentities(ctx, tx.Tx, l)
}

func leadArgs(l *leadflow.Lead) []any {
	return []any{nullString(NormalizeEmail(l.Email)), l.Name, l.Company, l.Title, l.Industry, l.Employees,
		l.Country, l.Region, l.Phone, jsonText(l.FirstTouch), jsonText(l.LastTouch),
		l.FirstTouch.Source, l.FirstTouch.Campaign, l.Consent, l.Unsubscribed,
		jsonText(l.Traits), jsonText(l.BANT), string(l.Stage), us(l.StageAt),
		l.Score, l.FitScore, l.BehaviorScore, us(l.ScoredAt), nullTime(l.NextDecayAt),
		l.ModelVersion, l.Owner, l.Team}
}

// CreateLead inserts l and sets its id and times. A duplicate email is
// ECONFLICT.
func (tx *Tx) CreateLead(ctx context.Context, l *leadflow.Lead) error {
	l.Email = NormalizeEmail(l.Email)
	if l.Stage == "" {
		l.Stage = leadflow.StageLead
	}
	if l.StageAt.IsZero() {
		l.StageAt = tx.Now
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = tx.Now
	}
	l.UpdatedAt = tx.Now
	args := append(leadArgs(l), us(l.CreatedAt), us(l.UpdatedAt))
	err := tx.queryRow(ctx, "LeadInsert", args...).Scan(&l.ID)
	if err = wrapDB(err, "insert lead"); leadflow.ErrorCode(err) == leadflow.ECONFLICT {
		return &leadflow.Error{Code: leadflow.ECONFLICT, Where: "email", Message: "a lead with email " + l.Email + " already exists"}
	}
	if err == nil {
		tx.readLead(l)
	}
	return err
}

// UpdateLead writes every mutable column of l.
func (tx *Tx) UpdateLead(ctx context.Context, l *leadflow.Lead) error {
	l.Email = NormalizeEmail(l.Email)
	l.UpdatedAt = tx.Now
	args := append(leadArgs(l), us(l.UpdatedAt), l.ID)
	_, err := tx.exec(ctx, "LeadUpdate", args...)
	if leadflow.ErrorCode(err) == leadflow.ECONFLICT {
		return &leadflow.Error{Code: leadflow.ECONFLICT, Where: "email", Message: "a lead with email " + l.Email + " already exists"}
	}
	if err == nil {
		tx.readLead(l)
	}
	return err
}

// UpdateLeadScore writes only the score columns (used by rescoring).
func (tx *Tx) UpdateLeadScore(ctx context.Context, l *leadflow.Lead) error {
	tx.forgetLead(l.ID)
	_, err := tx.exec(ctx, "LeadScoreUpdate", l.Score, l.FitScore, l.BehaviorScore, us(l.ScoredAt),
		nullTime(l.NextDecayAt), l.ModelVersion, l.ID)
	return err
}

// EraseLead removes a lead's personal data from every table (events,
// identities, score hits, PII columns) and keeps an anonymous row so that
// funnel counts stay right, plus an audit record of who erased it.
func (tx *Tx) EraseLead(ctx context.Context, id int64, actor string) error {
	if _, err := tx.exec(ctx, "LeadSearchSecureDelete", 1); err != nil {
		return err
	}
	tx.forgetLead(id)
	res, err := tx.exec(ctx, "LeadErase", us(tx.Now), us(tx.Now), id)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, "LeadSearchSecureDelete", 0); err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "lead %d not found", id)
	}
	for _, q := range []string{"EventsDeleteOfLead", "HitsDelete", "IdentitiesDelete"} {
		if _, err := tx.exec(ctx, q, id); err != nil {
			return err
		}
	}
	return tx.Audit(ctx, actor, "lead.erase", "lead", id, "personal data erased")
}

// MergeLeads moves everything of lead `from` onto lead `into` (identities,
// events, score hits, transitions) and deletes `from`. Used when one person
// turns out to be known by two leads.
func (tx *Tx) MergeLeads(ctx context.Context, into, from int64) error {
	for _, q := range []string{"IdentitiesMove", "EventsMove", "HitsMove", "TransitionsMove", "AssignmentsMove"} {
		if _, err := tx.exec(ctx, q, into, from); err != nil {
			return err
		}
	}
	tx.forgetLead(from)
	if _, err := tx.exec(ctx, "LeadDelete", from); err != nil {
		return err
	}
	return tx.Audit(ctx, "system", "lead.merge", "lead", into, "merged lead "+strconv.FormatInt(from, 10))
}

// LeadIDsDecayDue lists leads whose decay step has passed by now.
func (tx *Tx) LeadIDsDecayDue(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	return tx.ids(ctx, "LeadIDsDecayDue", us(now), limit)
}

// LeadIDsAfter lists lead ids greater than after, in order (for rescoring).
func (db *DB) LeadIDsAfter(ctx context.Context, after int64, limit int) ([]int64, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("LeadIDsAfter"), after, limit)
	if err != nil {
		return nil, wrapDB(err, "lead ids")
	}
	return scanIDs(rows)
}

// CountLeads counts the leads that are not erased.
func (db *DB) CountLeads(ctx context.Context) (int64, error) {
	var n int64
	err := db.queryRow(ctx, "LeadCount").Scan(&n)
	return n, wrapDB(err, "count leads")
}

func (tx *Tx) ids(ctx context.Context, name string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, tx.db.q.get(name), args...)
	if err != nil {
		return nil, wrapDB(err, name)
	}
	return scanIDs(rows)
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrapDB(err, "scan id")
		}
		ids = append(ids, id)
	}
	return ids, wrapDB(rows.Err(), "scan ids")
}

// notFound replaces the generic ENOTFOUND of wrapDB with a specific message.
func notFound(err error, format string, args ...any) error {
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return leadflow.Errorf(leadflow.ENOTFOUND, format, args...)
	}
	return err
}

// LeadIDsInStageSince lists leads that entered stage at or before t (for
// expiry rules), at most limit of them.
func (tx *Tx) LeadIDsInStageSince(ctx context.Context, stage leadflow.Stage, t time.Time, limit int) ([]int64, error) {
	return tx.ids(ctx, "LeadIDsInStageSince", string(stage), us(t), limit)
}
