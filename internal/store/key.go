package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// Key prefixes make a leaked key recognisable (secret scanners, logs).
const (
	WriteKeyPrefix = "lfw_"
	APIKeyPrefix   = "lfk_"
)

// NewSecret returns prefix + 32 random base32 characters (160 bits).
func NewSecret(prefix string) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// HashKey is how keys are stored: a SHA-256 of a 160-bit random secret
// needs no salt or slow hash.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// Source is where events come from; it authenticates with a write key.
type Source struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// CreateSource stores a source and returns its write key, which is not
// stored and cannot be shown again.
func (tx *Tx) CreateSource(ctx context.Context, name string) (*Source, string, error) {
	if strings.TrimSpace(name) == "" {
		return nil, "", leadflow.Invalidf("name", "a source needs a name")
	}
	key := NewSecret(WriteKeyPrefix)
	s := &Source{Name: name, CreatedAt: tx.Now}
	err := tx.queryRow(ctx, "SourceInsert", name, HashKey(key), us(tx.Now)).Scan(&s.ID)
	if err != nil {
		return nil, "", wrapDB(err, "insert source")
	}
	return s, key, nil
}

// SourceByWriteKey authenticates a write key; a revoked one is unknown.
func (db *DB) SourceByWriteKey(ctx context.Context, key string) (*Source, error) {
	var s Source
	err := db.queryRow(ctx, "SourceByKey", HashKey(key)).Scan(&s.ID, &s.Name)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return nil, leadflow.Errorf(leadflow.EUNAUTHORIZED, "unknown write key")
	}
	return &s, wrapDB(err, "source by key")
}

// Sources lists the event sources, revoked ones included.
func (db *DB) Sources(ctx context.Context) ([]Source, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("SourceList"))
	if err != nil {
		return nil, wrapDB(err, "sources")
	}
	defer rows.Close()
	out := []Source{}
	for rows.Next() {
		var s Source
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&s.ID, &s.Name, &created, &revoked); err != nil {
			return nil, wrapDB(err, "scan source")
		}
		s.CreatedAt, s.RevokedAt = fromUS(created), optUS(revoked)
		out = append(out, s)
	}
	return out, wrapDB(rows.Err(), "sources")
}

// RevokeSource makes a write key unusable. Revoking an unknown or already
// revoked key is ENOTFOUND.
func (tx *Tx) RevokeSource(ctx context.Context, id int64) error {
	return revoke(ctx, tx, "SourceRevoke", id, "write key")
}

// APIKey is a credential for the REST API. Its role is one of Roles: the
// permission matrix (internal/auth) applies to it as to a user.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateAPIKey stores a new admin key and returns it once.
func (tx *Tx) CreateAPIKey(ctx context.Context, name string) (*APIKey, string, error) {
	return tx.CreateAPIKeyWithRole(ctx, name, RoleAdmin)
}

// CreateAPIKeyWithRole stores a new key with a role ("" is admin) and
// returns it once.
func (tx *Tx) CreateAPIKeyWithRole(ctx context.Context, name, role string) (*APIKey, string, error) {
	if strings.TrimSpace(name) == "" {
		return nil, "", leadflow.Invalidf("name", "an API key needs a name")
	}
	if role == "" {
		role = RoleAdmin
	}
	if !slices.Contains(Roles, role) {
		return nil, "", leadflow.Invalidf("role", "unknown role %q (one of %s)", role, strings.Join(Roles, ", "))
	}
	key := NewSecret(APIKeyPrefix)
	k := &APIKey{Name: name, Prefix: key[:8], Role: role, CreatedAt: tx.Now}
	err := tx.queryRow(ctx, "APIKeyInsert", name, HashKey(key), k.Prefix, us(tx.Now), role).Scan(&k.ID)
	if err != nil {
		return nil, "", wrapDB(err, "insert api key")
	}
	return k, key, nil
}

// APIKeyByKey authenticates an API key.
func (db *DB) APIKeyByKey(ctx context.Context, key string) (*APIKey, error) {
	var k APIKey
	err := db.queryRow(ctx, "APIKeyByHash", HashKey(key)).Scan(&k.ID, &k.Name, &k.Prefix, &k.Role)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return nil, leadflow.Errorf(leadflow.EUNAUTHORIZED, "unknown or revoked API key")
	}
	return &k, wrapDB(err, "api key")
}

// APIKeys lists the API keys, revoked ones included (never the keys
// themselves: only their first characters).
func (db *DB) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("APIKeyList"))
	if err != nil {
		return nil, wrapDB(err, "api keys")
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		var k APIKey
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &created, &used, &revoked); err != nil {
			return nil, wrapDB(err, "scan api key")
		}
		k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromUS(created), optUS(used), optUS(revoked)
		out = append(out, k)
	}
	return out, wrapDB(rows.Err(), "api keys")
}

// RevokeAPIKey makes an API key unusable. Revoking an unknown or already
// revoked key is ENOTFOUND.
func (tx *Tx) RevokeAPIKey(ctx context.Context, id int64) error {
	return revoke(ctx, tx, "APIKeyRevoke", id, "API key")
}

func revoke(ctx context.Context, tx *Tx, query string, id int64, what string) error {
	res, err := tx.exec(ctx, query, us(tx.Now), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrapDB(err, query)
	} else if n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "no %s %d that is not revoked already", what, id)
	}
	return nil
}

// QueueDepth counts River jobs waiting to run.
func (db *DB) QueueDepth(ctx context.Context) (int64, error) {
	var n int64
	err := db.queryRow(ctx, "QueueDepth").Scan(&n)
	return n, wrapDB(err, "queue depth")
}
