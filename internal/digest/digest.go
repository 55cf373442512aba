// Package digest sends the weekly review digest: the review report of the
// last full week (docs/kpis.md "Review report"), emailed on Monday at 09:00
// in the company's time zone (the SLA calendar's) to the users who
// subscribe, in their language, never twice for the same week.
package digest

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/leadflow/leadflow/internal/analytics"
)

// DefaultHour is the local hour on Monday from which last week's digest
// is due.
const DefaultHour = 9

// Week is one ISO week of a time zone: [From, To), labelled "2026-W47".
type Week struct {
	Label    string
	From, To time.Time
}

// DueWeek returns the latest week whose digest is due at now: the week
// before the current one once it is Monday hour:00 or later in loc, else
// the week before that.
func DueWeek(now time.Time, loc *time.Location, hour int) Week {
	t := now.In(loc)
	offset := (int(t.Weekday()) + 6) % 7 // days since Monday
	monday := time.Date(t.Year(), t.Month(), t.Day()-offset, 0, 0, 0, 0, loc)
	if t.Before(monday.Add(time.Duration(hour) * time.Hour)) {
		monday = monday.AddDate(0, 0, -7)
	}
	from := monday.AddDate(0, 0, -7)
	y, w := from.ISOWeek()
	return Week{Label: fmt.Sprintf("%d-W%02d", y, w), From: from, To: monday}
}

// labels are the words of the digest per language.
var labels = map[string]map[string]string{
	"ja": {
		"subject": "【leadflow】週次レビュー %s(%s〜%s)", "intro": "先週のファネルと前週との比較です。",
		"funnel": "ファネル", "now": "今週", "prev": "前週", "delta": "差",
		"conversion": "転換率(コホート)", "velocity": "滞留時間の中央値(時間)", "first_touch": "初回接触までの中央値(時間)",
		"sla": "SLA遵守率", "targets": "月間目標", "target": "目標", "actual": "実績", "forecast": "着地見込み",
		"rejections": "差し戻し理由(上位)", "none": "なし", "link": "レポートを開く", "unsubscribe": "配信停止はレポート画面から。",
		"lead": "リード", "mql": "MQL", "sal": "SAL", "sql": "SQL", "hql": "HQL", "opportunity": "商談", "customer": "受注",
		"t.leads": "リード数", "t.mqls": "MQL数", "t.sqls": "SQL数", "t.opportunities": "商談数", "t.customers": "受注数", "t.won_amount": "受注金額",
	},
	"en": {
		"subject": "[leadflow] Weekly review %s (%s – %s)", "intro": "Last week's funnel against the week before.",
		"funnel": "Funnel", "now": "This week", "prev": "Previous", "delta": "Change",
		"conversion": "Conversion (cohort)", "velocity": "Median time in stage (hours)", "first_touch": "Median time to first touch (hours)",
		"sla": "SLA compliance", "targets": "Monthly targets", "target": "Target", "actual": "Actual", "forecast": "Forecast",
		"rejections": "Top rejection reasons", "none": "none", "link": "Open the report", "unsubscribe": "Unsubscribe on the report page.",
		"lead": "Leads", "mql": "MQLs", "sal": "SALs", "sql": "SQLs", "hql": "HQLs", "opportunity": "Opportunities", "customer": "Customers",
		"t.leads": "leads", "t.mqls": "MQLs", "t.sqls": "SQLs", "t.opportunities": "opportunities", "t.customers": "customers", "t.won_amount": "won amount",
	},
}

// Line is one figure of the digest, formatted.
type Line struct {
	Name, Now, Prev, Delta string
}

// Message is a rendered digest.
type Message struct {
	Subject, Text, HTML string
}

type view struct {
	L          map[string]string
	Week       Week
	Link       string
	Funnel     []Line
	Conversion []Line
	Velocity   []Line
	FirstTouch Line
	SLA        Line
	Targets    []Line
	Rejections []Line
}

// Render writes the digest of rv (the review report of week w) in lang (ja
// or en; anything else is ja). link is the review page of the week.
func Render(rv *analytics.Review, w Week, lang, link string) (Message, error) {
	l, ok := labels[lang]
	if !ok {
		l = labels["ja"]
	}
	v := view{L: l, Week: w, Link: link}
	stages := []string{"lead", "mql", "sal", "sql", "hql", "opportunity", "customer"}
	cur := countsOf(rv.Funnel)
	prev := countsOf(rv.PrevFunnel)
	for i, s := range stages {
		v.Funnel = append(v.Funnel, Line{Name: l[s], Now: fmt.Sprint(cur[i]), Prev: fmt.Sprint(prev[i]), Delta: signed(float64(cur[i]-prev[i]), 0)})
	}
	for _, c := range rv.Conversion {
		v.Conversion = append(v.Conversion, changeLine(stageNames(c.Name, l), c, pct))
	}
	for _, c := range rv.Velocity {
		v.Velocity = append(v.Velocity, changeLine(stageNames(c.Name, l), c, hours))
	}
	v.FirstTouch = changeLine(l["first_touch"], rv.FirstTouch, hours)
	v.SLA = changeLine(l["sla"], rv.SLA, pct)
	for _, t := range rv.Targets {
		fc := "—"
		if t.Forecast != nil {
			fc = fmt.Sprintf("%.0f", *t.Forecast)
		}
		v.Targets = append(v.Targets, Line{Name: t.Month + " " + l["t."+t.Metric],
			Now: fmt.Sprintf("%.0f", t.Actual), Prev: fmt.Sprintf("%.0f", t.Target), Delta: fc})
	}
	for _, r := range rv.TopRejections {
		v.Rejections = append(v.Rejections, Line{Name: r.Reason, Now: fmt.Sprint(r.Count)})
	}
	var txt, html bytes.Buffer
	if err := textTmpl.Execute(&txt, v); err != nil {
		return Message{}, err
	}
	if err := htmlTmpl.Execute(&html, v); err != nil {
		return Message{}, err
	}
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	return Message{Subject: fmt.Sprintf(l["subject"], w.Label, day(w.From), day(w.To.AddDate(0, 0, -1))),
		Text: txt.String(), HTML: html.String()}, nil
}

func countsOf(c analytics.Counts) [7]int64 {
	return [7]int64{c.Leads, c.MQLs, c.SALs, c.SQLs, c.HQLs, c.Opportunities, c.Customers}
}

// stageNames turns "mql→sql" into the language's stage names.
func stageNames(name string, l map[string]string) string {
	a, b, ok := strings.Cut(name, "→")
	if !ok {
		return name
	}
	return l[a] + " → " + l[b]
}

func pct(x float64) string   { return fmt.Sprintf("%.1f%%", 100*x) }
func hours(x float64) string { return fmt.Sprintf("%.1f", x) }

func signed(x float64, digits int) string {
	s := fmt.Sprintf("%.*f", digits, x)
	if x > 0 {
		s = "+" + s
	}
	return s
}

func changeLine(name string, c analytics.Change, f func(float64) string) Line {
	ln := Line{Name: name, Now: "—", Prev: "—", Delta: "—"}
	if c.Current != nil {
		ln.Now = f(*c.Current)
	}
	if c.Previous != nil {
		ln.Prev = f(*c.Previous)
	}
	if c.Delta != nil {
		ln.Delta = f(*c.Delta)
		if *c.Delta > 0 {
			ln.Delta = "+" + ln.Delta
		}
	}
	return ln
}

const textSrc = `{{.L.intro}}

■ {{.L.funnel}} ({{.L.now}} / {{.L.prev}} / {{.L.delta}})
{{range .Funnel}}  {{.Name}}: {{.Now}} / {{.Prev}} / {{.Delta}}
{{end}}
■ {{.L.conversion}}
{{range .Conversion}}  {{.Name}}: {{.Now}} / {{.Prev}} / {{.Delta}}
{{end}}
■ {{.L.velocity}}
{{range .Velocity}}  {{.Name}}: {{.Now}} / {{.Prev}} / {{.Delta}}
{{end}}
■ {{.FirstTouch.Name}}: {{.FirstTouch.Now}} / {{.FirstTouch.Prev}} / {{.FirstTouch.Delta}}
■ {{.SLA.Name}}: {{.SLA.Now}} / {{.SLA.Prev}} / {{.SLA.Delta}}
{{if .Targets}}
■ {{.L.targets}} ({{.L.actual}} / {{.L.target}} / {{.L.forecast}})
{{range .Targets}}  {{.Name}}: {{.Now}} / {{.Prev}} / {{.Delta}}
{{end}}{{end}}
■ {{.L.rejections}}
{{range .Rejections}}  {{.Name}}: {{.Now}}
{{else}}  {{.L.none}}
{{end}}
{{.L.link}}: {{.Link}}
{{.L.unsubscribe}}
`

const htmlSrc = `<!doctype html><html><body style="font-family:sans-serif">
<p>{{.L.intro}}</p>
{{define "rows"}}{{range .}}<tr><td>{{.Name}}</td><td align="right">{{.Now}}</td><td align="right">{{.Prev}}</td><td align="right">{{.Delta}}</td></tr>{{end}}{{end}}
<h3>{{.L.funnel}}</h3><table cellpadding="4"><tr><th></th><th>{{.L.now}}</th><th>{{.L.prev}}</th><th>{{.L.delta}}</th></tr>{{template "rows" .Funnel}}</table>
<h3>{{.L.conversion}}</h3><table cellpadding="4">{{template "rows" .Conversion}}</table>
<h3>{{.L.velocity}}</h3><table cellpadding="4">{{template "rows" .Velocity}}{{template "rows" (list .FirstTouch)}}</table>
<h3>{{.L.sla}}</h3><table cellpadding="4">{{template "rows" (list .SLA)}}</table>
{{if .Targets}}<h3>{{.L.targets}}</h3><table cellpadding="4"><tr><th></th><th>{{.L.actual}}</th><th>{{.L.target}}</th><th>{{.L.forecast}}</th></tr>{{template "rows" .Targets}}</table>{{end}}
<h3>{{.L.rejections}}</h3><ul>{{range .Rejections}}<li>{{.Name}}: {{.Now}}</li>{{else}}<li>{{.L.none}}</li>{{end}}</ul>
<p><a href="{{.Link}}">{{.L.link}}</a></p><p style="color:#888">{{.L.unsubscribe}}</p>
</body></html>`

var (
	textTmpl = texttemplate.Must(texttemplate.New("digest.txt").Parse(textSrc))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("digest.html").Funcs(htmltemplate.FuncMap{
		"list": func(ls ...Line) []Line { return ls }}).Parse(htmlSrc))
)
