package notify

import (
	"bytes"
	"context"
	"embed"
	htmltemplate "html/template"
	netmail "net/mail"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"github.com/leadflow/leadflow"
)

//go:embed templates/*.tmpl
var templatesFS embed.FS

// templates are the email bodies, parsed once; a template that does not
// parse fails start-up (New panics), not a send.
type templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

type langView struct {
	Lang string
	M    *message
}

func mustTemplates() *templates {
	funcs := map[string]any{"lang": func(l string, m *message) langView { return langView{Lang: l, M: m} }}
	return &templates{
		text: texttemplate.Must(texttemplate.New("").Funcs(funcs).ParseFS(templatesFS, "templates/email.txt.tmpl")),
		html: htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templatesFS, "templates/email.html.tmpl")),
	}
}

// render returns subject, text and HTML of an event's email.
func (t *templates) render(ev Event) (string, string, string, error) {
	m := newMessage(ev)
	var txt, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&txt, "email.txt", m); err != nil {
		return "", "", "", leadflow.Internal(err, "email text template")
	}
	if err := t.html.ExecuteTemplate(&html, "email.html", m); err != nil {
		return "", "", "", leadflow.Internal(err, "email html template")
	}
	return m.Subject(), txt.String(), html.String(), nil
}

type emailWorker struct {
	river.WorkerDefaults[EmailArgs]
	n *Notifier
}

func (w *emailWorker) NextRetry(j *river.Job[EmailArgs]) time.Time {
	return nextRetry(time.Now(), j.Attempt)
}

func (w *emailWorker) Timeout(*river.Job[EmailArgs]) time.Duration { return jobTimeout }

func (w *emailWorker) Work(ctx context.Context, j *river.Job[EmailArgs]) error {
	set, err := w.n.Settings(ctx)
	if err != nil {
		return err
	}
	if set.SMTP == nil {
		w.n.log.Warn("SMTP is no longer configured; email dropped", "to", j.Args.To, "event", j.Args.Event.Type)
		return nil
	}
	subject, text, html, err := w.n.tmpl.render(j.Args.Event)
	if err != nil {
		return err
	}
	return w.n.send(ctx, set.SMTP, &netmail.Address{Name: j.Args.ToName, Address: j.Args.To}, subject, text, html)
}

// send delivers one message through the SMTP server. Headers with
// Japanese (subject, names) are RFC 2047 B encoded words, as Japanese
// mailers expect; bodies UTF-8 base64, text and HTML as
// multipart/alternative.
func (n *Notifier) send(ctx context.Context, s *SMTP, to *netmail.Address, subject, text, html string) error {
	from, err := netmail.ParseAddress(s.From)
	if err != nil {
		return leadflow.Invalidf("smtp.from", "%v", err)
	}
	m := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingB64))
	m.SetAddrHeaderFromMailAddress(mail.HeaderFrom, from)
	m.SetAddrHeaderFromMailAddress(mail.HeaderTo, to)
	m.Subject(subject)
	m.SetMessageID()
	m.SetDateWithValue(n.now())
	m.SetGenHeader(mail.HeaderXMailer, "leadflow")
	m.SetBodyString(mail.TypeTextPlain, text)
	if html != "" {
		m.AddAlternativeString(mail.TypeTextHTML, html)
	}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(sendTimeout)}
	switch s.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSImplicit:
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
		return &leadflow.Error{Code: leadflow.EUNAVAILABLE, Message: "sending email through " + s.Host + " failed: " + redactSMTP(err.Error(), s), Err: err}
	}
	return nil
}

// redactSMTP keeps credentials out of error messages.
func redactSMTP(msg string, s *SMTP) string {
	if s.Password != "" {
		msg = strings.ReplaceAll(msg, s.Password, Mask)
	}
	return msg
}

// SendTestEmail sends a sample notification to an address at once, so an
// admin can check the SMTP settings; the error says what went wrong.
func (n *Notifier) SendTestEmail(ctx context.Context, to string) error {
	addr, err := netmail.ParseAddress(to)
	if err != nil {
		return leadflow.Invalidf("to", "%q is not an email address", to)
	}
	set, err := n.Settings(ctx)
	if err != nil {
		return err
	}
	if set.SMTP == nil {
		return leadflow.Errorf(leadflow.ECONFLICT, "SMTP is not configured: PUT /api/v1/settings/notifications with an smtp section first")
	}
	ev, err := normalize(SampleEvent(n.now()), n.now(), n.baseURL(set))
	if err != nil {
		return err
	}
	subject, text, html, err := n.tmpl.render(ev)
	if err != nil {
		return err
	}
	return n.send(ctx, set.SMTP, addr, "[テスト/test] "+subject, text, html)
}

// SampleEvent is a made-up HQL handoff, for test sends and previews.
func SampleEvent(now time.Time) Event {
	jst := time.FixedZone("JST", 9*3600)
	return Event{Type: LeadStageChanged, LeadID: 1, At: now, Owner: "sato", Data: map[string]any{
		DataLead: map[string]any{"id": 1, "name": "山田 太郎", "company": "山田製作所株式会社", "email": "taro.yamada@example.co.jp",
			"title": "情報システム部 部長", "stage": "hql", "score": 92, "owner": "sato",
			"first_touch": map[string]any{"source": "google", "campaign": "spring-seminar"},
			"bant":        map[string]any{"budget": true, "authority": true, "need": true, "timeline": now.AddDate(0, 0, 20).In(jst).Format(time.RFC3339)}},
		DataFrom: "sql", DataTo: "hql", DataReason: "BANTがすべて揃い、導入時期が30日以内", DataRule: "stages.hql",
		DataOwner:      "sato",
		DataSLA:        map[string]any{"policy": "HQL: 1営業時間以内に初回接触", "due_at": now.Add(time.Hour).In(jst).Format(time.RFC3339)},
		DataTopContent: []any{"料金ページ /pricing", "導入事例: 製造業のリード管理", "ホワイトペーパー: スコアリング入門"},
	}}
}
