// Package auth holds what the web UI (and later the API) needs to know who
// is calling and what they may do: argon2id password hashes, session
// tokens and the permission matrix of the roles. It is pure: no HTTP, no
// SQL, no clock.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/leadflow/leadflow"
)

// Argon2id parameters: the OWASP minimum for argon2id (19 MiB, 2 passes,
// 1 lane) keeps a login under ~50 ms on a small server. They are stored
// in every hash, so raising them later keeps old hashes valid.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
	// MinPasswordLen is the shortest password accepted.
	MinPasswordLen = 10
	maxPasswordLen = 1024
)

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string of an argon2id hash of pw:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(pw string) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", leadflow.Internal(err, "salt")
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword says why a new password is not acceptable.
func CheckPassword(pw string) error {
	switch n := len([]rune(pw)); {
	case n < MinPasswordLen:
		return leadflow.Invalidf("password", "a password needs at least %d characters", MinPasswordLen)
	case len(pw) > maxPasswordLen:
		return leadflow.Invalidf("password", "a password is at most %d bytes", maxPasswordLen)
	}
	return nil
}

// VerifyPassword reports whether pw matches the PHC hash. An empty or
// malformed hash never matches; the comparison is constant-time.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || len(pw) > maxPasswordLen {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when the user does not exist, so that a
// login for an unknown name takes as long as one for a known name.
var dummyHash, _ = HashPassword("leadflow-dummy-password")

// VerifyUnknown spends the time of one verification and returns false.
func VerifyUnknown(pw string) bool {
	VerifyPassword(dummyHash, pw)
	return false
}

// NewPassword returns a random password for a first admin: 20 characters
// from an alphabet without look-alikes.
func NewPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
