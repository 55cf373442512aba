package notify

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// message is what people read about an event, in Japanese and English,
// taken from the handoff context in Event.Data (see the Data* keys). Every
// field may be empty; the templates show what is there.
type message struct {
	Type             string
	TitleJA, TitleEN string
	LeadID           int64
	Name, Company    string
	Email, Title     string
	Phone            string
	StageJA, StageEN string // "MQL → SQL"
	Reason, Rule     string
	Score            string
	Owner, Previous  string
	SLAPolicy        string
	SLADue           string
	Source, Campaign string
	BANTJA, BANTEN   string
	TopContent       []string
	Touch            string
	Deal             string
	Link             string
	At               string
}

// Who is the lead's short label: company and name.
func (m *message) Who() string {
	s := strings.TrimSpace(m.Company + " " + m.Name)
	if s == "" {
		if m.Email != "" {
			return m.Email
		}
		return fmt.Sprintf("#%d", m.LeadID)
	}
	return s
}

// Subject is the email subject: Japanese first, then English.
func (m *message) Subject() string {
	return fmt.Sprintf("[leadflow] %s: %s / %s", m.TitleJA, m.Who(), m.TitleEN)
}

var stageJA = map[string]string{
	"lead": "リード", "mql": "MQL", "sal": "SAL", "sql": "SQL", "hql": "HQL",
	"opportunity": "商談", "customer": "受注", "recycled": "リサイクル", "disqualified": "対象外",
}

func stageLabel(s string, ja bool) string {
	if s == "" {
		return ""
	}
	if ja {
		if l, ok := stageJA[s]; ok {
			return l
		}
		return s
	}
	switch s {
	case "mql", "sal", "sql", "hql":
		return strings.ToUpper(s)
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func titles(typ, toJA, toEN string) (string, string) {
	switch typ {
	case LeadStageChanged:
		if toJA != "" {
			return "リードが" + toJA + "になりました", "Lead moved to " + toEN
		}
		return "リードのステージが変わりました", "Lead stage changed"
	case LeadAssigned:
		return "リードが割り当てられました", "Lead assigned"
	case LeadRecycled:
		return "リードがリサイクルされました", "Lead recycled"
	case LeadTouchLogged:
		return "接触が記録されました", "Touch logged"
	case SLAWarning:
		return "SLA期限が近づいています", "SLA deadline approaching"
	case SLABreached:
		return "SLA期限を超過しました", "SLA breached"
	case DealUpdated:
		return "商談が更新されました", "Deal updated"
	}
	return typ, typ
}

// get walks nested maps: get(d, "lead", "name").
func get(d map[string]any, path ...string) any {
	var v any = d
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str renders a JSON value for people; "" for nothing.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(math.Round(x*10)/10, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}

func first(vs ...any) string {
	for _, v := range vs {
		if s := str(v); s != "" {
			return s
		}
	}
	return ""
}

// when formats an RFC 3339 time in its own offset, e.g.
// "2025-04-01 10:00 (+09:00)".
func when(v any) string {
	s := str(v)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04 (-07:00)")
}

func newMessage(ev Event) *message {
	d := ev.Data
	m := &message{Type: ev.Type, LeadID: ev.LeadID, Link: str(d[DataLeadURL]), At: ev.At.Format(time.RFC3339)}
	m.Name = str(get(d, DataLead, "name"))
	m.Company = str(get(d, DataLead, "company"))
	m.Email = str(get(d, DataLead, "email"))
	m.Title = str(get(d, DataLead, "title"))
	m.Phone = str(get(d, DataLead, "phone"))
	from := str(d[DataFrom])
	to := first(d[DataTo], get(d, DataLead, "stage"))
	switch {
	case from != "" && to != "":
		m.StageJA = stageLabel(from, true) + " → " + stageLabel(to, true)
		m.StageEN = stageLabel(from, false) + " → " + stageLabel(to, false)
	case to != "":
		m.StageJA, m.StageEN = stageLabel(to, true), stageLabel(to, false)
	}
	m.TitleJA, m.TitleEN = titles(ev.Type, stageLabel(str(d[DataTo]), true), stageLabel(str(d[DataTo]), false))
	m.Reason = str(d[DataReason])
	m.Rule = str(d[DataRule])
	m.Score = first(d[DataScore], get(d, DataLead, "score"))
	m.Owner = first(d[DataOwner], get(d, DataLead, "owner"))
	m.Previous = str(d[DataPreviousOwner])
	m.SLAPolicy = str(get(d, DataSLA, "policy"))
	m.SLADue = when(get(d, DataSLA, "due_at"))
	m.Source = str(get(d, DataLead, "first_touch", "source"))
	m.Campaign = str(get(d, DataLead, "first_touch", "campaign"))
	if b, ok := get(d, DataLead, "bant").(map[string]any); ok {
		m.BANTJA, m.BANTEN = bant(b)
	}
	if list, ok := d[DataTopContent].([]any); ok {
		for _, c := range list {
			if s := first(get(map[string]any{"c": c}, "c", "title"), get(map[string]any{"c": c}, "c", "path"), c); s != "" {
				m.TopContent = append(m.TopContent, s)
			}
		}
	}
	if t, ok := d[DataTouch].(map[string]any); ok {
		m.Touch = strings.Join(nonEmpty(str(t["kind"]), str(t["outcome"]), str(t["note"])), " · ")
	}
	if dl, ok := d[DataDeal].(map[string]any); ok {
		amount := ""
		if a := str(dl["amount"]); a != "" && a != "0" {
			amount = a + " " + str(dl["currency"])
		}
		m.Deal = strings.Join(nonEmpty(str(dl["name"]), str(dl["status"]), amount, str(dl["reason"])), " · ")
	}
	return m
}

func bant(b map[string]any) (string, string) {
	mark := func(k string) string {
		if v, _ := b[k].(bool); v {
			return "✓"
		}
		return "—"
	}
	tl := when(b["timeline"])
	if len(tl) >= 10 {
		tl = tl[:10]
	}
	if tl == "" {
		tl = "—"
	}
	ja := fmt.Sprintf("予算 %s / 決裁権 %s / 必要性 %s / 導入時期 %s", mark("budget"), mark("authority"), mark("need"), tl)
	en := fmt.Sprintf("Budget %s / Authority %s / Need %s / Timeline %s", mark("budget"), mark("authority"), mark("need"), tl)
	return ja, en
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
