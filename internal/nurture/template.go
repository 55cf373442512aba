package nurture

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/leadflow/leadflow"
)

// Template is an email of a sequence: subject, text and (optional) HTML
// body, Go templates over TemplateData. Templates are checked when the
// sequence is saved by rendering them for a sample lead, so a template
// that does not parse or names an unknown field ({{.Lead.Nmae}}) is
// refused with the template's message, not found at send time.
type Template struct {
	ID      string
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// LeadFields are the lead's fields a template can use as {{.Lead.X}}.
type LeadFields struct {
	ID        int64
	Name      string
	Company   string
	Title     string
	Email     string
	Industry  string
	Employees int
	Country   string
	Region    string
	Phone     string
	Owner     string
	Score     float64
	Traits    map[string]any
}

// TemplateData is what a template is executed on.
type TemplateData struct {
	Lead LeadFields
	// Sequence is the sequence's name.
	Sequence string
	// UnsubscribeURL is the lead's one-click unsubscribe page; a body
	// without it gets a footer with it.
	UnsubscribeURL string
}

// NewLeadFields copies the template fields of a lead.
func NewLeadFields(l *leadflow.Lead) LeadFields {
	t := l.Traits
	if t == nil {
		t = map[string]any{}
	}
	return LeadFields{ID: l.ID, Name: l.Name, Company: l.Company, Title: l.Title, Email: l.Email, Industry: l.Industry,
		Employees: l.Employees, Country: l.Country, Region: l.Region, Phone: l.Phone, Owner: l.Owner, Score: l.Score, Traits: t}
}

var sampleData = TemplateData{
	Lead: LeadFields{ID: 1, Name: "山田 太郎", Company: "山田製作所株式会社", Title: "情報システム部 部長",
		Email: "taro.yamada@example.co.jp", Industry: "manufacturing", Employees: 250, Country: "JP", Region: "関東",
		Phone: "03-0000-0000", Owner: "sato", Score: 42, Traits: map[string]any{}},
	Sequence: "sample", UnsubscribeURL: "https://leadflow.example.com/u/sample",
}

// NewTemplate parses and checks a template.
func NewTemplate(id, subject, text, html string) (*Template, error) {
	if strings.TrimSpace(subject) == "" {
		return nil, fmt.Errorf("template %s needs a subject", id)
	}
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("template %s needs a text body (the HTML body is optional)", id)
	}
	t := &Template{ID: id}
	var err error
	if t.subject, err = texttemplate.New("subject").Option("missingkey=error").Parse(subject); err != nil {
		return nil, fmt.Errorf("subject: %v", err)
	}
	if t.text, err = texttemplate.New("text").Option("missingkey=error").Parse(text); err != nil {
		return nil, fmt.Errorf("text: %v", err)
	}
	if html != "" {
		if t.html, err = htmltemplate.New("html").Option("missingkey=error").Parse(html); err != nil {
			return nil, fmt.Errorf("html: %v", err)
		}
	}
	if _, _, _, err := t.Render(sampleData); err != nil {
		return nil, err
	}
	return t, nil
}

// Render executes the template: subject (one line), text and HTML ("" when
// the template has none).
func (t *Template) Render(d TemplateData) (subject, text, html string, err error) {
	var b bytes.Buffer
	if err := t.subject.Execute(&b, d); err != nil {
		return "", "", "", fmt.Errorf("subject: %v", err)
	}
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := t.text.Execute(&b, d); err != nil {
		return "", "", "", fmt.Errorf("text: %v", err)
	}
	text = b.String()
	if t.html != nil {
		b.Reset()
		if err := t.html.Execute(&b, d); err != nil {
			return "", "", "", fmt.Errorf("html: %v", err)
		}
		html = b.String()
	}
	return subject, text, html, nil
}
