package nurture

import (
	"bytes"
	"context"
	"fmt"
	"html"
	netmail "net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/wneessen/go-mail"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
)

// Settings is the nurture settings document (store key "nurture"):
//
//	rate: {per_minute: 60, per_sender_per_minute: 30}
//	base_url: https://leadflow.example.com   # where tracking links point
//	bounces: {soft_limit: 3, soft_window_days: 30}
//
// The SMTP server is the one of the notification settings.
type Settings struct {
	Rate    Rate    `yaml:"rate" json:"rate"`
	BaseURL string  `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	Bounces Bounces `yaml:"bounces" json:"bounces"`
}

// Bounces says when soft bounces suppress an address: SoftLimit soft
// bounces within SoftWindowDays days (SoftLimit 0: never). A hard bounce
// always suppresses.
type Bounces struct {
	SoftLimit      int `yaml:"soft_limit" json:"soft_limit"`
	SoftWindowDays int `yaml:"soft_window_days" json:"soft_window_days"`
}

// Rate limits sends per minute, over all senders and per sender.
type Rate struct {
	PerMinute          int `yaml:"per_minute" json:"per_minute"`
	PerSenderPerMinute int `yaml:"per_sender_per_minute" json:"per_sender_per_minute"`
}

// DefaultSettings apply until a document is stored.
var DefaultSettings = Settings{Rate: Rate{PerMinute: 60, PerSenderPerMinute: 30},
	Bounces: Bounces{SoftLimit: 3, SoftWindowDays: 30}}

// ParseSettings reads and validates a settings document.
func ParseSettings(src []byte) (*Settings, error) {
	s := DefaultSettings
	if len(bytes.TrimSpace(src)) > 0 {
		if err := yaml.NewDecoder(bytes.NewReader(src), yaml.DisallowUnknownField()).Decode(&s); err != nil {
			return nil, &leadflow.Error{Code: leadflow.EINVALID, Message: "nurture settings are invalid",
				Details: []leadflow.Detail{{Where: "nurture", Message: yaml.FormatError(err, false, true)}}}
		}
	}
	if s.Rate.PerMinute < 0 || s.Rate.PerSenderPerMinute < 0 {
		return nil, leadflow.Invalidf("rate", "rate limits cannot be negative (0 means unlimited)")
	}
	if s.Bounces.SoftLimit < 0 {
		return nil, leadflow.Invalidf("bounces.soft_limit", "cannot be negative (0: soft bounces never suppress)")
	}
	if s.Bounces.SoftLimit > 0 && (s.Bounces.SoftWindowDays < 1 || s.Bounces.SoftWindowDays > 3650) {
		return nil, leadflow.Invalidf("bounces.soft_window_days", "must be between 1 and 3650 days, not %d", s.Bounces.SoftWindowDays)
	}
	if s.BaseURL != "" {
		if err := notify.CheckURL("base_url", s.BaseURL); err != nil {
			return nil, err
		}
		s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	}
	return &s, nil
}

func checkAddress(s string) error {
	if _, err := netmail.ParseAddress(s); err != nil {
		return fmt.Errorf("%q is not an email address: %v", s, err)
	}
	return nil
}

// outgoing is one rendered email ready for SMTP.
type outgoing struct {
	From, To       *netmail.Address
	Subject        string
	Text, HTML     string
	MessageID      string
	Unsubscribe    string // one-click URL (RFC 8058)
	Date           time.Time
	ExtraHeaderSeq string
}

var (
	reHref    = regexp.MustCompile(`(?i)(href\s*=\s*")(https?://[^"]+)(")`)
	reTextURL = regexp.MustCompile(`https?://[^\s<>"'）」]+`)
)

// trackLinks rewrites the http(s) links of the bodies into signed click
// redirects, leaving links into leadflow itself (unsubscribe) alone.
func trackLinks(text, body string, base string, wrap func(string) string) (string, string) {
	own := func(u string) bool { return base != "" && strings.HasPrefix(u, base+"/") }
	text = reTextURL.ReplaceAllStringFunc(text, func(u string) string {
		if own(u) {
			return u
		}
		return wrap(u)
	})
	body = reHref.ReplaceAllStringFunc(body, func(m string) string {
		p := reHref.FindStringSubmatch(m)
		u := html.UnescapeString(p[2])
		if own(u) {
			return m
		}
		return p[1] + html.EscapeString(wrap(u)) + p[3]
	})
	return text, body
}

// withFooter adds the unsubscribe link to bodies that do not show it and
// the open pixel to the HTML body.
func withFooter(text, body, unsub, pixel string) (string, string) {
	if !strings.Contains(text, unsub) {
		text = strings.TrimRight(text, "\n") + "\n\n--\n配信停止 / Unsubscribe: " + unsub + "\n"
	}
	if body == "" {
		return text, body
	}
	add := ""
	if !strings.Contains(body, html.EscapeString(unsub)) && !strings.Contains(body, unsub) {
		add += `<p style="font-size:12px;color:#666"><a href="` + html.EscapeString(unsub) + `">配信停止 / Unsubscribe</a></p>`
	}
	if pixel != "" {
		add += `<img src="` + html.EscapeString(pixel) + `" width="1" height="1" alt="" style="display:none">`
	}
	if i := strings.LastIndex(strings.ToLower(body), "</body>"); i >= 0 {
		return text, body[:i] + add + body[i:]
	}
	return text, body + add
}

// sendMail delivers one message. Headers with Japanese (subject, names)
// are RFC 2047 encoded words, bodies UTF-8 base64, text and HTML as
// multipart/alternative; List-Unsubscribe and List-Unsubscribe-Post make
// the unsubscribe one click in mail clients (RFC 8058).
func sendMail(ctx context.Context, s *notify.SMTP, o *outgoing) error {
	m := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingB64))
	m.SetAddrHeaderFromMailAddress(mail.HeaderFrom, o.From)
	m.SetAddrHeaderFromMailAddress(mail.HeaderTo, o.To)
	m.Subject(o.Subject)
	m.SetMessageIDWithValue(o.MessageID)
	m.SetDateWithValue(o.Date)
	m.SetGenHeader(mail.HeaderXMailer, "leadflow")
	if o.Unsubscribe != "" {
		m.SetGenHeader(mail.Header("List-Unsubscribe"), "<"+o.Unsubscribe+">")
		m.SetGenHeader(mail.Header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click")
	}
	if o.ExtraHeaderSeq != "" {
		m.SetGenHeader(mail.Header("X-Leadflow-Sequence"), o.ExtraHeaderSeq)
	}
	m.SetBodyString(mail.TypeTextPlain, o.Text)
	if o.HTML != "" {
		m.AddAlternativeString(mail.TypeTextHTML, o.HTML)
	}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(10 * time.Second)}
	switch s.TLS {
	case notify.TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case notify.TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return leadflow.Errorf(leadflow.EINVALID, "smtp: %v", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		msg := err.Error()
		if s.Password != "" {
			msg = strings.ReplaceAll(msg, s.Password, notify.Mask)
		}
		return &leadflow.Error{Code: leadflow.EUNAVAILABLE, Message: "sending email through " + s.Host + " failed: " + msg, Err: err}
	}
	return nil
}
