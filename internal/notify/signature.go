package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix marks a Standard Webhooks symmetric signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a signing secret for a new endpoint: whsec_ and the
// base64 of 32 random bytes (the spec asks for 24 to 64).
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// NewMessageID returns a webhook-id: msg_ and 22 random base64url
// characters, with no "." (the signed content is id.timestamp.body).
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "msg_" + base64.RawURLEncoding.EncodeToString(b[:])
}

func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, errors.New("webhook secret is not whsec_ followed by base64")
	}
	if len(key) == 0 {
		return nil, errors.New("webhook secret is empty")
	}
	return key, nil
}

func sign(key []byte, msgID string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the webhook-signature header value, "v1,<base64 HMAC-SHA256
// of msgID.timestamp.body>", for a whsec_ secret.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	if strings.Contains(msgID, ".") {
		return "", errors.New("webhook id must not contain '.'")
	}
	return "v1," + base64.StdEncoding.EncodeToString(sign(key, msgID, ts.Unix(), body)), nil
}

// Verification errors.
var (
	ErrMissingHeaders   = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidTimestamp = errors.New("webhook: timestamp is invalid or outside the tolerance")
	ErrNoMatch          = errors.New("webhook: no signature matches")
)

// DefaultTolerance is how far a webhook-timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Verify checks a received webhook the way a receiver should: the
// timestamp is within tolerance of now (0: DefaultTolerance) and one of the
// space-separated v1 signatures matches, compared in constant time.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if math.Abs(float64(now.Unix()-ts)) > tolerance.Seconds() {
		return ErrInvalidTimestamp
	}
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	want := sign(key, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if subtle.ConstantTimeCompare(got, want) == 1 {
			return nil
		}
	}
	return ErrNoMatch
}
