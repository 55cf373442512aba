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
	"github.com/leadflow/leadflow/internal/auth"
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
// permission matrix (internal/auth) applies to it as to a user. A key may
// belong to a user (User): it then acts as that user, with the user's
// lead visibility (a sales key sees its user's and team's leads only), and
// never with more permissions than the user's role has.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	User       string     `json:"user,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	// The user's current role, team and active flag, read with the key
	// when it authenticates (APIKeyByKey), so that a change of the user
	// applies to the next call.
	UserRole   string `json:"-"`
	UserTeam   string `json:"-"`
	UserActive bool   `json:"-"`
}

// NewAPIKey is what CreateAPIKeyFor stores.
type NewAPIKey struct {
	Name string
	Role string // "" is admin
	// User is the user the key acts for, by name or email; required for a
	// sales key.
	User string
}

// CreateAPIKey stores a new admin key and returns it once.
func (tx *Tx) CreateAPIKey(ctx context.Context, name string) (*APIKey, string, error) {
	return tx.CreateAPIKeyFor(ctx, NewAPIKey{Name: name, Role: RoleAdmin})
}

// CreateAPIKeyWithRole stores a new key of no user with a role ("" is
// admin) and returns it once.
func (tx *Tx) CreateAPIKeyWithRole(ctx context.Context, name, role string) (*APIKey, string, error) {
	return tx.CreateAPIKeyFor(ctx, NewAPIKey{Name: name, Role: role})
}

// CreateAPIKeyFor stores a new key and returns it once. A sales key must
// belong to a user (its leads are the user's and the user's team's); a
// key of a user must name an active user whose role has every permission
// of the key's role.
func (tx *Tx) CreateAPIKeyFor(ctx context.Context, nk NewAPIKey) (*APIKey, string, error) {
	name, role := strings.TrimSpace(nk.Name), nk.Role
	if name == "" {
		return nil, "", leadflow.Invalidf("name", "an API key needs a name")
	}
	if role == "" {
		role = RoleAdmin
	}
	if !slices.Contains(Roles, role) {
		return nil, "", leadflow.Invalidf("role", "unknown role %q (one of %s)", role, strings.Join(Roles, ", "))
	}
	user := ""
	if who := strings.TrimSpace(nk.User); who != "" {
		u, err := tx.userByNameOrEmail(ctx, who)
		if err != nil {
			return nil, "", err
		}
		if !u.Active {
			return nil, "", leadflow.Invalidf("user", "user %s is deactivated: a key cannot act for them", u.Name)
		}
		if missing := auth.Missing(auth.Role(u.Role), auth.Role(role)); len(missing) > 0 {
			return nil, "", leadflow.Invalidf("role", "user %s has role %s, which lacks %s of role %s: a key cannot do more than its user",
				u.Name, u.Role, joinPerms(missing), role)
		}
		user = u.Name
	} else if auth.Role(role) == auth.Sales {
		return nil, "", leadflow.Invalidf("user",
			"a sales key acts for one salesperson and sees their and their team's leads only: name the user (name or email)")
	}
	key := NewSecret(APIKeyPrefix)
	k := &APIKey{Name: name, Prefix: key[:8], Role: role, User: user, CreatedAt: tx.Now}
	err := tx.queryRow(ctx, "APIKeyInsert", name, HashKey(key), k.Prefix, us(tx.Now), role, user).Scan(&k.ID)
	if err != nil {
		return nil, "", wrapDB(err, "insert api key")
	}
	return k, key, nil
}

func joinPerms(ps []auth.Perm) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// userByNameOrEmail finds a user by name, else by email (case-insensitive).
func (tx *Tx) userByNameOrEmail(ctx context.Context, who string) (*User, error) {
	u, err := tx.FindUser(ctx, who)
	if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
		return u, err
	}
	var name string
	err = tx.queryRow(ctx, "UserNameByEmail", strings.ToLower(who)).Scan(&name)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return nil, leadflow.Invalidf("user", "no user with name or email %q", who)
	} else if err != nil {
		return nil, wrapDB(err, "user by email")
	}
	return tx.FindUser(ctx, name)
}

// APIKeyByKey authenticates an API key; a key of a user comes with the
// user's current role, team and active flag.
func (db *DB) APIKeyByKey(ctx context.Context, key string) (*APIKey, error) {
	var k APIKey
	var urole, uteam sql.NullString
	var uactive sql.NullBool
	err := db.queryRow(ctx, "APIKeyByHash", HashKey(key)).Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &k.User, &urole, &uteam, &uactive)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return nil, leadflow.Errorf(leadflow.EUNAUTHORIZED, "unknown or revoked API key")
	}
	k.UserRole, k.UserTeam, k.UserActive = urole.String, uteam.String, uactive.Valid && uactive.Bool
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
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &k.User, &created, &used, &revoked); err != nil {
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
