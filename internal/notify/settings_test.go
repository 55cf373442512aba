package notify_test

import (
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
)

const fullSettings = `# notifications
smtp:
  host: smtp.example.com
  port: 587
  username: leadflow
  password: "s3cret:pa55"   # app password
  from: "leadflow <leadflow@example.com>"
  tls: starttls
email_events: [lead.assigned, sla.breached]
chat:
  url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
  events: [sla.breached]
base_url: https://leadflow.example.com/
`

func TestParseSettings(t *testing.T) {
	t.Parallel()
	s, err := notify.ParseSettings([]byte(fullSettings))
	if err != nil {
		t.Fatal(err)
	}
	if s.SMTP.Host != "smtp.example.com" || s.SMTP.Password != "s3cret:pa55" || s.BaseURL != "https://leadflow.example.com" ||
		len(s.EmailEvents) != 2 || s.Chat.Events[0] != notify.SLABreached {
		t.Fatalf("parsed: %+v %+v %+v", s, s.SMTP, s.Chat)
	}
	if d, err := notify.ParseSettings([]byte("smtp: {host: 127.0.0.1, from: a@b.co}\n")); err != nil || d.SMTP.Port != 587 || d.SMTP.TLS != notify.TLSStartTLS {
		t.Fatalf("defaults: %+v %v", d, err)
	}
	if d, err := notify.ParseSettings([]byte("smtp: {host: mail, port: 465, from: a@b.co}\n")); err != nil || d.SMTP.TLS != notify.TLSImplicit {
		t.Fatalf("port 465 is implicit TLS: %+v %v", d, err)
	}
	if _, err := notify.ParseSettings(nil); err != nil {
		t.Fatalf("an empty document turns everything off: %v", err)
	}

	bad := []struct{ doc, want string }{
		{"smtp: {port: 25, from: a@b.co}", "smtp.host"},
		{"smtp: {host: h, from: a@b.co, tls: ssl}", "smtp.tls"},
		{"smtp: {host: h, from: not an address}", "smtp.from"},
		{"smtp: {host: h, from: a@b.co, port: 70000}", "smtp.port"},
		{"email_events: [lead.assigned, lead.deleted]", `unknown event type "lead.deleted"`},
		{"chat: {url: ftp://x/y}", "chat.url"},
		{"chat: {url: 'https://h/x', events: [nope]}", "chat.events[0]"},
		{"base_url: localhost:8080", "base_url"},
		{"smtp: {host: h, from: a@b.co, pasword: x}", "pasword"},
	}
	for _, b := range bad {
		_, err := notify.ParseSettings([]byte(b.doc))
		if leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Errorf("%s: got %v, want invalid", b.doc, err)
			continue
		}
		msg := err.Error()
		var e *leadflow.Error
		if errorsAs(err, &e) {
			for _, d := range e.Details {
				msg += " " + d.Message
			}
		}
		if !strings.Contains(msg, b.want) {
			t.Errorf("%s: error %q does not mention %q", b.doc, msg, b.want)
		}
	}
}

func TestMaskSettings(t *testing.T) {
	t.Parallel()
	masked, err := notify.MaskSettings([]byte(fullSettings))
	if err != nil {
		t.Fatal(err)
	}
	m := string(masked)
	if strings.Contains(m, "s3cret") || strings.Contains(m, "XXXXSECRET") {
		t.Fatalf("secrets shown:\n%s", m)
	}
	if !strings.Contains(m, "# notifications") || !strings.Contains(m, "hooks.slack.com") || !strings.Contains(m, notify.Mask) {
		t.Fatalf("masking lost the layout:\n%s", m)
	}
	// Sent back as shown, the stored secrets are kept.
	back, err := notify.UnmaskSettings(masked, []byte(fullSettings))
	if err != nil {
		t.Fatal(err)
	}
	s, err := notify.ParseSettings(back)
	if err != nil {
		t.Fatal(err)
	}
	if s.SMTP.Password != "s3cret:pa55" || s.Chat.URL != "https://hooks.slack.com/services/T000/B000/XXXXSECRET" {
		t.Fatalf("unmasked: %+v %+v\n%s", s.SMTP, s.Chat, back)
	}
	// A new password replaces the stored one.
	changed := strings.Replace(string(masked), `"`+notify.Mask+`"`, `"new-pass"`, 1)
	back, err = notify.UnmaskSettings([]byte(changed), []byte(fullSettings))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := notify.ParseSettings(back); s.SMTP.Password != "new-pass" {
		t.Fatalf("new password: %+v\n%s", s.SMTP, back)
	}
	// The mask with nothing stored is refused.
	if _, err := notify.UnmaskSettings(masked, nil); leadflow.ErrorCode(err) != leadflow.EINVALID {
		t.Fatalf("mask without a stored secret: %v", err)
	}
}
