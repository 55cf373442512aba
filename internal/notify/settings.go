package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/leadflow/leadflow"
)

// Settings is the notifications settings document (store key
// "notifications"): the SMTP server for email to owners, which events are
// emailed, the chat webhook, and the base URL of links to leads.
//
//	smtp: {host: smtp.example.com, port: 587, username: u, password: p,
//	       from: "leadflow <leadflow@example.com>", tls: starttls}
//	email_events: [lead.assigned, lead.stage_changed, sla.warning, sla.breached]
//	chat: {url: "https://hooks.slack.com/services/…", events: [lead.stage_changed, sla.breached]}
//	base_url: https://leadflow.example.com
type Settings struct {
	SMTP        *SMTP    `yaml:"smtp,omitempty" json:"smtp,omitempty"`
	EmailEvents []string `yaml:"email_events,omitempty" json:"email_events,omitempty"`
	Chat        *Chat    `yaml:"chat,omitempty" json:"chat,omitempty"`
	BaseURL     string   `yaml:"base_url,omitempty" json:"base_url,omitempty"`
}

// SMTP is the mail server.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port,omitempty"`
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
	From     string `yaml:"from"`
	// TLS is none, starttls (the default on ports other than 465) or tls
	// (implicit TLS, the default on port 465).
	TLS string `yaml:"tls,omitempty"`
}

// Chat is a Slack-compatible incoming webhook.
type Chat struct {
	URL    string   `yaml:"url"`
	Events []string `yaml:"events,omitempty"`
}

// DefaultEmailEvents and DefaultChatEvents apply when a document lists none.
var (
	DefaultEmailEvents = []string{LeadAssigned, LeadStageChanged, SLAWarning, SLABreached}
	DefaultChatEvents  = []string{LeadAssigned, LeadStageChanged, SLAWarning, SLABreached}
)

// Mask replaces secrets in documents shown to people; a document sent
// back with the mask keeps the stored secret.
const Mask = "********"

// TLS modes of SMTP.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// ParseSettings reads and validates a settings document.
func ParseSettings(src []byte) (*Settings, error) {
	var s Settings
	if len(bytes.TrimSpace(src)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(src), yaml.DisallowUnknownField())
		if err := dec.Decode(&s); err != nil {
			return nil, &leadflow.Error{Code: leadflow.EINVALID, Message: "notification settings are invalid",
				Details: []leadflow.Detail{{Where: "notifications", Message: yaml.FormatError(err, false, true)}}}
		}
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *Settings) validate() error {
	if m := s.SMTP; m != nil {
		if strings.TrimSpace(m.Host) == "" {
			return leadflow.Invalidf("smtp.host", "give the SMTP server's host name")
		}
		if m.Port == 0 {
			m.Port = 587
		}
		if m.Port < 1 || m.Port > 65535 {
			return leadflow.Invalidf("smtp.port", "port %d is not between 1 and 65535", m.Port)
		}
		if m.TLS == "" {
			m.TLS = TLSStartTLS
			if m.Port == 465 {
				m.TLS = TLSImplicit
			}
		}
		if !slices.Contains([]string{TLSNone, TLSStartTLS, TLSImplicit}, m.TLS) {
			return leadflow.Invalidf("smtp.tls", "tls is %q: use none, starttls or tls", m.TLS)
		}
		if m.From == "" {
			return leadflow.Invalidf("smtp.from", `give a sender address, e.g. "leadflow <leadflow@example.com>"`)
		}
		if _, err := mail.ParseAddress(m.From); err != nil {
			return leadflow.Invalidf("smtp.from", "%q is not an email address: %v", m.From, err)
		}
		if m.Password != "" && m.Username == "" {
			return leadflow.Invalidf("smtp.username", "a password needs a username")
		}
	}
	if err := CheckEventTypes("email_events", s.EmailEvents); err != nil {
		return err
	}
	if c := s.Chat; c != nil {
		if err := CheckURL("chat.url", c.URL); err != nil {
			return err
		}
		if err := CheckEventTypes("chat.events", c.Events); err != nil {
			return err
		}
	}
	if s.BaseURL != "" {
		if err := CheckURL("base_url", s.BaseURL); err != nil {
			return err
		}
		s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	}
	return nil
}

// CheckURL accepts an absolute http or https URL with a host.
func CheckURL(where, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return leadflow.Invalidf(where, "%q is not an http(s) URL", raw)
	}
	if u.User != nil {
		return leadflow.Invalidf(where, "put no credentials in the URL; receivers verify the signature instead")
	}
	return nil
}

// CheckEventTypes refuses unknown and duplicate event types.
func CheckEventTypes(where string, types []string) error {
	seen := map[string]bool{}
	for i, t := range types {
		if !slices.Contains(EventTypes, t) {
			return leadflow.Invalidf(fmt.Sprintf("%s[%d]", where, i), "unknown event type %q: use one of %s", t, strings.Join(EventTypes, ", "))
		}
		if seen[t] {
			return leadflow.Invalidf(fmt.Sprintf("%s[%d]", where, i), "event type %q is listed twice", t)
		}
		seen[t] = true
	}
	return nil
}

// emails reports whether events of the type are emailed.
func (s *Settings) emails(eventType string) bool {
	if s.SMTP == nil {
		return false
	}
	events := s.EmailEvents
	if len(events) == 0 {
		events = DefaultEmailEvents
	}
	return slices.Contains(events, eventType)
}

// chats reports whether events of the type go to the chat webhook.
func (s *Settings) chats(eventType string) bool {
	if s.Chat == nil || s.Chat.URL == "" {
		return false
	}
	events := s.Chat.Events
	if len(events) == 0 {
		events = DefaultChatEvents
	}
	return slices.Contains(events, eventType)
}

// secretPaths are the values MaskSettings hides.
var secretPaths = []string{"$.smtp.password", "$.chat.url"}

// MaskSettings returns the document with the SMTP password and the chat
// webhook URL (whose path is a credential) replaced by Mask, keeping
// comments and layout.
func MaskSettings(src []byte) ([]byte, error) {
	s, err := ParseSettings(src)
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	if s.SMTP != nil && s.SMTP.Password != "" {
		values["$.smtp.password"] = Mask
	}
	if s.Chat != nil && s.Chat.URL != "" {
		values["$.chat.url"] = maskURL(s.Chat.URL)
	}
	return replaceValues(src, values)
}

// maskURL keeps scheme and host, so people can tell which service it is.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Mask
	}
	return u.Scheme + "://" + u.Host + "/" + Mask
}

// UnmaskSettings puts the stored secrets back into a document that was
// shown masked and sent back: a value containing Mask keeps the value of
// stored (which may be empty when nothing is stored yet).
func UnmaskSettings(src, stored []byte) ([]byte, error) {
	s, err := ParseSettings(src)
	if err != nil {
		return nil, err
	}
	var old *Settings
	if len(stored) > 0 {
		if old, err = ParseSettings(stored); err != nil {
			old = nil
		}
	}
	values := map[string]string{}
	if s.SMTP != nil && strings.Contains(s.SMTP.Password, Mask) {
		if old == nil || old.SMTP == nil || old.SMTP.Password == "" {
			return nil, leadflow.Invalidf("smtp.password", "no password is stored: give the password, not the mask")
		}
		values["$.smtp.password"] = old.SMTP.Password
	}
	if s.Chat != nil && strings.Contains(s.Chat.URL, Mask) {
		if old == nil || old.Chat == nil || old.Chat.URL == "" {
			return nil, leadflow.Invalidf("chat.url", "no chat URL is stored: give the URL, not the mask")
		}
		values["$.chat.url"] = old.Chat.URL
	}
	out, err := replaceValues(src, values)
	if err != nil {
		return nil, err
	}
	if _, err := ParseSettings(out); err != nil {
		return nil, err
	}
	return out, nil
}

// replaceValues sets scalar values at YAML paths, keeping the rest of the
// document as written.
func replaceValues(src []byte, values map[string]string) ([]byte, error) {
	if len(values) == 0 {
		return src, nil
	}
	f, err := parser.ParseBytes(src, parser.ParseComments)
	if err != nil {
		return nil, leadflow.Invalidf("notifications", "%s", yaml.FormatError(err, false, true))
	}
	for _, p := range secretPaths {
		v, ok := values[p]
		if !ok {
			continue
		}
		path, err := yaml.PathString(p)
		if err != nil {
			return nil, leadflow.Internal(err, "yaml path")
		}
		if err := path.ReplaceWithReader(f, bytes.NewReader(quoteYAML(v))); err != nil {
			return nil, leadflow.Internal(err, "replace "+p)
		}
	}
	return []byte(f.String() + "\n"), nil
}

// quoteYAML writes v as a double-quoted scalar (a JSON string is one).
func quoteYAML(v string) []byte {
	b, _ := json.Marshal(v)
	return b
}
