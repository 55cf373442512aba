package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
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
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
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

// SourceByWriteKey authenticates a write key.
func (db *DB) SourceByWriteKey(ctx context.Context, key string) (*Source, error) {
	var s Source
	err := db.queryRow(ctx, "SourceByKey", HashKey(key)).Scan(&s.ID, &s.Name)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return nil, leadflow.Errorf(leadflow.EUNAUTHORIZED, "unknown write key")
	}
	return &s, wrapDB(err, "source by key")
}

// APIKey is a credential for the REST API.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateAPIKey stores a new key and returns it once.
func (tx *Tx) CreateAPIKey(ctx context.Context, name string) (*APIKey, string, error) {
	if strings.TrimSpace(name) == "" {
		return nil, "", leadflow.Invalidf("name", "an API key needs a name")
	}
	key := NewSecret(APIKeyPrefix)
	k := &APIKey{Name: name, Prefix: key[:8], CreatedAt: tx.Now}
	err := tx.queryRow(ctx, "APIKeyInsert", name, HashKey(key), k.Prefix, us(tx.Now)).Scan(&k.ID)
	if err != nil {
		return nil, "", wrapDB(err, "insert api key")
	}
	return k, key, nil
}

// APIKeyByKey authenticates an API key.
func (db *DB) APIKeyByKey(ctx context.Context, key string) (*APIKey, error) {
	var k APIKey
	err := db.queryRow(ctx, "APIKeyByHash", HashKey(key)).Scan(&k.ID, &k.Name)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return nil, leadflow.Errorf(leadflow.EUNAUTHORIZED, "unknown or revoked API key")
	}
	return &k, wrapDB(err, "api key")
}

// QueueDepth counts River jobs waiting to run.
func (db *DB) QueueDepth(ctx context.Context) (int64, error) {
	var n int64
	err := db.queryRow(ctx, "QueueDepth").Scan(&n)
	return n, wrapDB(err, "queue depth")
}
