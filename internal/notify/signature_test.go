package notify_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/notify"
)

// The test vector of the Standard Webhooks reference libraries.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var specTime = time.Unix(1614265330, 0)

func TestSignSpecVector(t *testing.T) {
	t.Parallel()
	got, err := notify.Sign(specSecret, specID, specTime, []byte(specBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != specSig {
		t.Fatalf("Sign = %s, want %s", got, specSig)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	headers := func(sig string, ts time.Time) http.Header {
		h := http.Header{}
		h.Set(notify.HeaderID, specID)
		h.Set(notify.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(notify.HeaderSignature, sig)
		return h
	}
	other := "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
	tests := []struct {
		name string
		h    http.Header
		body string
		now  time.Time
		want error
	}{
		{"valid", headers(specSig, specTime), specBody, specTime, nil},
		{"one of several signatures (key rotation)", headers(other+" v1a,xyz "+specSig, specTime), specBody, specTime, nil},
		{"within tolerance", headers(specSig, specTime), specBody, specTime.Add(4 * time.Minute), nil},
		{"too old (replay)", headers(specSig, specTime), specBody, specTime.Add(6 * time.Minute), notify.ErrInvalidTimestamp},
		{"from the future", headers(specSig, specTime), specBody, specTime.Add(-6 * time.Minute), notify.ErrInvalidTimestamp},
		{"tampered body", headers(specSig, specTime), `{"test": 2432232315}`, specTime, notify.ErrNoMatch},
		{"wrong signature", headers(other, specTime), specBody, specTime, notify.ErrNoMatch},
		{"missing signature", headers("", specTime), specBody, specTime, notify.ErrMissingHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := notify.Verify(specSecret, tt.h, []byte(tt.body), tt.now, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNewSecretAndMessageID(t *testing.T) {
	t.Parallel()
	s := notify.NewSecret()
	if !strings.HasPrefix(s, notify.SecretPrefix) {
		t.Fatalf("secret %q lacks whsec_", s)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, notify.SecretPrefix))
	if err != nil || len(key) < 24 || len(key) > 64 {
		t.Fatalf("secret key: %d bytes, %v", len(key), err)
	}
	if notify.NewSecret() == s {
		t.Fatal("secrets repeat")
	}
	id := notify.NewMessageID()
	if !strings.HasPrefix(id, "msg_") || strings.Contains(id, ".") || len(id) < 20 {
		t.Fatalf("message id %q", id)
	}
	body := []byte(`{"type":"lead.assigned"}`)
	now := time.Now()
	sig, err := notify.Sign(s, id, now, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(notify.HeaderID, id)
	h.Set(notify.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(notify.HeaderSignature, sig)
	if err := notify.Verify(s, h, body, now, 0); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := notify.Sign("whsec_not base64!", id, now, body); err == nil {
		t.Fatal("a bad secret signs")
	}
}

func TestRetryScheduleSpansADay(t *testing.T) {
	t.Parallel()
	// The worst case: every delay at the bottom of its jitter.
	var total time.Duration
	prev := time.Duration(0)
	for n := 1; n < notify.MaxAttempts; n++ {
		d := notify.Backoff(n)
		if d < prev {
			t.Fatalf("backoff shrinks at %d: %s < %s", n, d, prev)
		}
		prev = d
		total += time.Duration(float64(d) * 0.8)
	}
	if total < 24*time.Hour {
		t.Fatalf("retries span %s at least, want ≥ 24h", total)
	}
	if notify.Backoff(1) > 10*time.Second {
		t.Fatalf("first retry after %s: too late", notify.Backoff(1))
	}
}
