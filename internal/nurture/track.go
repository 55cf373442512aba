package nurture

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/leadflow/leadflow"
)

// A 1×1 transparent GIF.
var pixel = []byte{0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b}

// claims verifies the {token} of a request and loads its send; a forged
// token or an unknown send answers 404.
func (s *Service) claims(w http.ResponseWriter, r *http.Request, kind string) (Claims, *Tracked, bool) {
	tok := strings.TrimSuffix(r.PathValue("token"), ".gif")
	sg, err := s.signer(r.Context())
	if err != nil {
		s.log.Error("nurture: signing key", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return Claims{}, nil, false
	}
	c, err := sg.Verify(tok, kind)
	if err != nil {
		http.Error(w, "this link is not valid", http.StatusNotFound)
		return Claims{}, nil, false
	}
	send, err := s.db.Send(r.Context(), c.Send)
	if err != nil {
		if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			s.log.Error("nurture: send", "err", err)
		}
		http.Error(w, "this link is not valid", http.StatusNotFound)
		return Claims{}, nil, false
	}
	return c, &Tracked{Send: send}, true
}

func (s *Service) record(r *http.Request, t *Tracked) error {
	if s.rec == nil {
		return leadflow.Errorf(leadflow.EINTERNAL, "nurture: no recorder")
	}
	err := s.rec.NurtureEvent(r.Context(), *t)
	if err != nil && leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
		s.log.Error("nurture: record tracking event", "event", t.Name, "send", t.Send.ID, "err", err)
	}
	return err
}

// HandleOpen serves the open pixel GET /t/o/{token}.gif and records
// "Email Opened" once per send.
func (s *Service) HandleOpen(w http.ResponseWriter, r *http.Request) {
	_, t, ok := s.claims(w, r, TokenOpen)
	if !ok {
		return
	}
	t.Name, t.MessageID = EventEmailOpened, fmt.Sprintf("nurture:open:%d", t.Send.ID)
	t.Properties = s.props(t)
	_ = s.record(r, t)
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(pixel)
}

// HandleClick is the click redirect GET /t/c/{token}: it records "Email
// Link Clicked" (once per send and link) and redirects to the signed
// destination. The destination comes only from the signed token, so the
// endpoint cannot be used as an open redirect.
func (s *Service) HandleClick(w http.ResponseWriter, r *http.Request) {
	c, t, ok := s.claims(w, r, TokenClick)
	if !ok {
		return
	}
	h := sha256.Sum256([]byte(c.URL))
	t.Name, t.MessageID = EventEmailClicked, fmt.Sprintf("nurture:click:%d:%s", t.Send.ID, hex.EncodeToString(h[:8]))
	t.Properties = s.props(t)
	t.Properties["url"] = c.URL
	_ = s.record(r, t)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, c.URL, http.StatusFound)
}

var unsubPage = template.Must(template.New("u").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>配信停止 / Unsubscribe</title></head>
<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">
{{if .Done}}<h1>配信を停止しました</h1><p>{{.Email}} へのメール配信を停止しました。</p><p>You are unsubscribed; {{.Email}} will receive no more of these emails.</p>
{{else}}<h1>配信停止 / Unsubscribe</h1><p>{{.Email}} へのメール配信を停止しますか？</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">配信を停止する / Unsubscribe</button></form>{{end}}
</body></html>`))

// HandleUnsubscribePage is GET /u/{token}: a page that asks to confirm
// (a GET must not unsubscribe: mail scanners follow links).
func (s *Service) HandleUnsubscribePage(w http.ResponseWriter, r *http.Request) {
	_, t, ok := s.claims(w, r, TokenUnsubscribe)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = unsubPage.Execute(w, map[string]any{"Email": maskEmail(t.Send.Email), "Done": false})
}

// HandleUnsubscribe is POST /u/{token}: the RFC 8058 one-click
// unsubscribe (List-Unsubscribe-Post) and the confirm page's form. It
// records the lead's withdrawn consent, suppresses the address, ends every
// enrolment and records an "Unsubscribed" event.
func (s *Service) HandleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	_, t, ok := s.claims(w, r, TokenUnsubscribe)
	if !ok {
		return
	}
	t.Name, t.MessageID = EventUnsubscribed, fmt.Sprintf("nurture:unsubscribe:%d", t.Send.ID)
	t.Properties = s.props(t)
	if err := s.record(r, t); err != nil && leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
		http.Error(w, "internal error: please try again", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = unsubPage.Execute(w, map[string]any{"Email": maskEmail(t.Send.Email), "Done": true})
}

func (s *Service) props(t *Tracked) map[string]any {
	return map[string]any{"send_id": t.Send.ID, "sequence_id": t.Send.SequenceID, "step": t.Send.Step,
		"enrolment_id": t.Send.EnrolmentID}
}

// maskEmail shows enough of an address to recognise it: ta***@example.com.
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok {
		return "***"
	}
	if len(local) > 2 {
		local = local[:2]
	}
	return local + "***@" + domain
}
