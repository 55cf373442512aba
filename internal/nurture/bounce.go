package nurture

import (
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// EventEmailBounced is recorded for the lead of every bounce, so a scoring
// model can count it like any other event.
const EventEmailBounced = "Email Bounced"

// ExitBounced ends the enrolments of a lead whose address was suppressed
// by a bounce.
const ExitBounced = "bounced"

// MaxBounceBatch is the most bounces one request may report.
const MaxBounceBatch = 1000

// BounceReport is a bounce as reported: by the SMTP server during the
// conversation, or afterwards by a DSN or the mail provider's webhook.
// Either Email or MessageID (the Message-ID of the nurture email) names
// the address.
type BounceReport struct {
	Email     string    `json:"email,omitempty" maxLength:"320" doc:"The address that bounced"`
	MessageID string    `json:"message_id,omitempty" maxLength:"998" doc:"Message-ID of the nurture email that bounced (with or without <>)"`
	Type      string    `json:"type" doc:"hard (the address does not exist) or soft (mailbox full, greylisted, …)"`
	Reason    string    `json:"reason,omitempty" maxLength:"2000" doc:"e.g. the SMTP reply: 550 5.1.1 user unknown"`
	At        time.Time `json:"at,omitzero" doc:"When it bounced (RFC 3339); default now"`
	// SendID names the send directly (the SMTP-time bounce of a step).
	SendID int64 `json:"-"`
}

// BounceResult says what a bounce did.
type BounceResult struct {
	Email  string `json:"email,omitempty"`
	LeadID int64  `json:"lead_id,omitempty"`
	SendID int64  `json:"send_id,omitempty"`
	Type   string `json:"type"`
	// Status: recorded, duplicate (reported before, counted once) or
	// unknown (a message id leadflow did not send, and no address).
	Status string `json:"status" enum:"recorded,duplicate,unknown"`
	// Suppressed: the address is now never mailed again (a hard bounce,
	// or the soft-bounce limit reached); Exited counts the enrolments it
	// ended.
	Suppressed bool `json:"suppressed"`
	SoftCount  int  `json:"soft_count,omitempty"`
	Exited     int  `json:"exited"`
}

// Bounce result statuses.
const (
	BounceRecorded  = "recorded"
	BounceDuplicate = "duplicate"
	BounceUnknown   = "unknown"
)

// CheckBounces validates and normalises reported bounces: a type of hard
// or soft, an address or a message id, a time not in the future (zero:
// now). where prefixes each problem's location ("bounces[2].type"; ""
// for a single bounce). Every problem is reported at once.
func CheckBounces(bs []BounceReport, where string, now time.Time) error {
	var details []leadflow.Detail
	at := func(i int, field string) string {
		if where == "" {
			return field
		}
		return fmt.Sprintf("%s[%d].%s", where, i, field)
	}
	if len(bs) == 0 {
		return leadflow.Invalidf("bounces", "no bounce given: send {\"email\":…,\"type\":\"hard\"} or {\"bounces\":[…]}")
	}
	if len(bs) > MaxBounceBatch {
		return leadflow.Invalidf("bounces", "%d bounces in one request; at most %d", len(bs), MaxBounceBatch)
	}
	for i := range bs {
		b := &bs[i]
		b.Type = strings.ToLower(strings.TrimSpace(b.Type))
		if b.Type != store.BounceHard && b.Type != store.BounceSoft {
			details = append(details, leadflow.Detail{Where: at(i, "type"), Message: fmt.Sprintf("type must be hard or soft, not %q", b.Type)})
		}
		b.MessageID = strings.Trim(strings.TrimSpace(b.MessageID), "<>")
		b.Email = strings.TrimSpace(b.Email)
		if b.Email == "" && b.MessageID == "" {
			details = append(details, leadflow.Detail{Where: at(i, "email"), Message: "give the address (email) or the Message-ID (message_id) that bounced"})
		}
		if b.Email != "" {
			a, err := netmail.ParseAddress(b.Email)
			if err != nil || a.Name != "" || a.Address != b.Email {
				details = append(details, leadflow.Detail{Where: at(i, "email"), Message: fmt.Sprintf("%q is not an email address", b.Email)})
			}
		}
		switch {
		case b.At.IsZero():
			b.At = now
		case b.At.After(now.Add(5 * time.Minute)):
			details = append(details, leadflow.Detail{Where: at(i, "at"), Message: fmt.Sprintf("%s is in the future", b.At.Format(time.RFC3339))})
		}
		b.At = b.At.UTC()
	}
	if len(details) > 0 {
		return &leadflow.Error{Code: leadflow.EINVALID, Message: fmt.Sprintf("%d problem(s) in the bounces", len(details)), Details: details}
	}
	return nil
}

// SuppressesAfter reports whether a bounce of kind suppresses the address
// when softCount soft bounces (this one included) fell in the window.
func (b Bounces) SuppressesAfter(kind string, softCount int) bool {
	return kind == store.BounceHard || b.SoftLimit > 0 && softCount >= b.SoftLimit
}

// SoftSince is the start of the soft-bounce window of a bounce at t.
func (b Bounces) SoftSince(t time.Time) time.Time {
	return t.AddDate(0, 0, -b.SoftWindowDays)
}
