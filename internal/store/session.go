package store

import (
	"context"
	"time"

	"github.com/leadflow/leadflow"
)

// Session is a logged-in web UI user. The token itself is never stored;
// TokenHash is its SHA-256 (see internal/auth).
type Session struct {
	TokenHash  string
	UserName   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string

	// The user's current profile, read with the session so that a role
	// change applies to the next request.
	DisplayName string
	Email       string
	Role        string
	Team        string
}

// CreateSession stores a new session; CreatedAt and LastSeenAt are the
// transaction's time.
func (tx *Tx) CreateSession(ctx context.Context, s *Session) error {
	s.CreatedAt, s.LastSeenAt = tx.Now, tx.Now
	_, err := tx.exec(ctx, "SessionInsert", s.TokenHash, s.UserName, us(s.CreatedAt), us(s.LastSeenAt),
		us(s.ExpiresAt), s.UserAgent)
	return err
}

// FindSession returns the session with the token hash, with its user's
// profile, or ENOTFOUND when there is none or its user is inactive. It
// does not check expiry: the caller knows the clock and the timeouts.
func (db *DB) FindSession(ctx context.Context, tokenHash string) (*Session, error) {
	var s Session
	var created, seen, expires int64
	err := db.queryRow(ctx, "SessionByHash", tokenHash, true).Scan(&s.TokenHash, &s.UserName, &created, &seen, &expires,
		&s.DisplayName, &s.Email, &s.Role, &s.Team)
	if err != nil {
		return nil, notFound(wrapDB(err, "session"), "no such session")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromUS(created), fromUS(seen), fromUS(expires)
	return &s, nil
}

// TouchSession records that the session was used at the transaction's time.
func (tx *Tx) TouchSession(ctx context.Context, tokenHash string) error {
	_, err := tx.exec(ctx, "SessionTouch", us(tx.Now), tokenHash)
	return err
}

// DeleteSession ends one session (logout, rotation, expiry).
func (tx *Tx) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := tx.exec(ctx, "SessionDelete", tokenHash)
	return err
}

// DeleteSessionsOfUser ends every session of a user (password change,
// deactivation).
func (tx *Tx) DeleteSessionsOfUser(ctx context.Context, name string) error {
	_, err := tx.exec(ctx, "SessionDeleteOfUser", name)
	return err
}

// DeleteExpiredSessions removes sessions past their absolute expiry or
// idle since before idleSince, and reports how many.
func (tx *Tx) DeleteExpiredSessions(ctx context.Context, idleSince time.Time) (int64, error) {
	res, err := tx.exec(ctx, "SessionDeleteExpired", us(tx.Now), us(idleSince))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, leadflow.Internal(err, "rows affected")
	}
	return n, nil
}
