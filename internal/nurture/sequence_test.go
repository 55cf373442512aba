package nurture

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

const good = `name: recycled
from: "マーケティング <marketing@example.co.jp>"
enrol:
  stages: [recycled]
exit:
  events: ["Email Replied"]
templates:
  first:
    subject: "{{.Lead.Name}} 様: 導入事例のご案内"
    text: |
      {{.Lead.Name}} 様
      https://example.co.jp/case
    html: '<p>{{.Lead.Name}} 様</p><a href="https://example.co.jp/case?a=1&b=2">事例</a>'
steps:
  - id: first
    email: first
  - wait: 2 business days
  - id: check
    branch: {if: "last_email.opened || score >= 40", then: call, else: end}
  - id: call
    task: {kind: call, title: "フォローの電話", due: 1 business day}
`

func TestParse(t *testing.T) {
	s, err := Parse("", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Steps) != 4 || s.Steps[1].Wait.BusinessDays != 2 || s.Steps[2].Then != 3 || s.Steps[2].Else != 4 {
		t.Fatalf("steps %+v", s.Steps)
	}
	if r, ok := s.ExitsOn(leadflow.StageSQL); !ok || r != "converted" {
		t.Fatalf("exit on sql: %q %v", r, ok)
	}
	if !s.Steps[2].If.Holds(Facts{Lead: &leadflow.Lead{Score: 45}, Now: time.Now()}) {
		t.Fatal("score >= 40 should hold")
	}
	if s.Steps[2].If.Holds(Facts{Lead: &leadflow.Lead{Score: 10}, Now: time.Now()}) {
		t.Fatal("should not hold")
	}
	subj, text, _, err := s.Templates["first"].Render(TemplateData{Lead: LeadFields{Name: "山田 太郎"}})
	if err != nil || subj != "山田 太郎 様: 導入事例のご案内" || !strings.Contains(text, "山田 太郎 様") {
		t.Fatalf("render: %q %q %v", subj, text, err)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ name, from, to, want string }{
		{"unknown field", "{{.Lead.Name}} 様", "{{.Lead.Nmae}} 様", "can't evaluate field Nmae"},
		{"template syntax", "{{.Lead.Name}} 様\n", "{{.Lead.Name 様\n", "text:"},
		{"loop", "then: call, else: end", "then: first, else: end", "would loop"},
		{"self loop", "then: call, else: end", "then: check, else: end", "would loop"},
		{"bad wait", "2 business days", "soon", "is not a wait"},
		{"bad stage", "stages: [recycled]", "stages: [nurtured]", `unknown stage "nurtured"`},
		{"bad cel", "last_email.opened ||", "last_email.read ||", "read"},
		{"unknown template", "email: first\n", "email: second\n", `no template "second"`},
		{"unknown key", "  - wait:", "  - sleep:", "sleep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(good, tt.from, tt.to, 1)
			if src == good {
				t.Fatal("replacement did not apply")
			}
			_, err := Parse("s.yaml", []byte(src))
			if err == nil {
				t.Fatal("accepted")
			}
			e := err.(*leadflow.Error)
			all := e.Message
			for _, d := range e.Details {
				all += "\n" + d.Where + ": " + d.Message
			}
			if !strings.Contains(all, tt.want) {
				t.Fatalf("error %q does not say %q", all, tt.want)
			}
			if e.Code != leadflow.EINVALID {
				t.Fatalf("code %s", e.Code)
			}
		})
	}
}

func TestToken(t *testing.T) {
	s := NewSigner("k")
	tok := s.Sign(Claims{Kind: TokenClick, Send: 7, URL: "https://example.com/x"})
	c, err := s.Verify(tok, TokenClick)
	if err != nil || c.Send != 7 || c.URL != "https://example.com/x" {
		t.Fatalf("%+v %v", c, err)
	}
	forged := []string{tok + "x", "a" + tok, strings.Replace(tok, ".", "", 1), NewSigner("other").Sign(c),
		s.Sign(Claims{Kind: TokenClick, Send: 7, URL: "javascript:alert(1)"}), tok[:len(tok)-3]}
	for _, f := range forged {
		if _, err := s.Verify(f, TokenClick); err == nil {
			t.Errorf("forged token %q accepted", f)
		}
	}
	if _, err := s.Verify(tok, TokenOpen); err == nil {
		t.Error("a click token opened as an open token")
	}
}

func TestLimiter(t *testing.T) {
	var l limiter
	now := time.Unix(0, 0)
	lim := map[string]int{"": 3, "from:a": 2}
	if l.take(now, lim) != 0 || l.take(now, lim) != 0 {
		t.Fatal("first two should pass")
	}
	if w := l.take(now, lim); w != time.Minute {
		t.Fatalf("third: wait %s", w)
	}
	if l.take(now.Add(time.Minute+time.Second), lim) != 0 {
		t.Fatal("after a minute it should pass")
	}
}
