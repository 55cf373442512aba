package nurture

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/leadflow/leadflow"
)

// Token kinds.
const (
	TokenOpen        = "o"
	TokenClick       = "c"
	TokenUnsubscribe = "u"
)

// Claims are what a tracking token says: which send, what kind, and for a
// click the destination. The destination is signed, so the click
// redirect only goes where the email pointed (no open redirect).
type Claims struct {
	Kind string `json:"k"`
	Send int64  `json:"s"`
	URL  string `json:"u,omitempty"`
}

// Signer signs and verifies tracking tokens with HMAC-SHA256.
type Signer struct{ key []byte }

// NewSigner returns a signer with the secret.
func NewSigner(secret string) Signer { return Signer{key: []byte("leadflow nurture v1\x00" + secret)} }

func (s Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)[:18]
}

// Sign returns the token of c: base64url(JSON) "." base64url(MAC).
func (s Signer) Sign(c Claims) string {
	b, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(b)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(p))
}

var errForged = leadflow.Errorf(leadflow.ENOTFOUND, "this link is not valid")

// Verify checks a token and returns its claims; a forged, truncated or
// altered token is ENOTFOUND (the endpoints answer 404).
func (s Signer) Verify(tok, kind string) (Claims, error) {
	p, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return Claims{}, errForged
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(p)) {
		return Claims{}, errForged
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return Claims{}, errForged
	}
	var c Claims
	if err := json.Unmarshal(b, &c); err != nil || c.Kind != kind || c.Send <= 0 {
		return Claims{}, errForged
	}
	if kind == TokenClick && !safeURL(c.URL) {
		return Claims{}, errForged
	}
	return c, nil
}

// safeURL accepts absolute http(s) URLs only.
func safeURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
