package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Session lifetimes. A session ends after IdleTimeout without a request,
// and in any case MaxAge after login.
const (
	IdleTimeout = 8 * time.Hour
	MaxAge      = 7 * 24 * time.Hour
	// TouchEvery bounds how often a request writes the session's last-seen
	// time: once a minute is precise enough for an idle timeout of hours.
	TouchEvery = time.Minute
)

// NewToken returns a session token: 256 random bits, URL-safe. Only its
// hash is stored, so a copy of the database opens no session.
func NewToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash is the stored form of a session token.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Alive reports whether a session created at created and last seen at
// seen is still valid at now.
func Alive(created, seen, now time.Time) bool {
	return now.Sub(seen) < IdleTimeout && now.Sub(created) < MaxAge
}
