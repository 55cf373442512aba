package gen

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow"
)

// The site, assets and campaigns the generated company markets with. Every
// Properties and Context map below is built once per Generate call and
// shared, read-only, by all the events that use it.

const siteURL = "https://www.leadflow.example.jp"

// tmpl is a prebuilt event: everything but ids and times.
type tmpl struct {
	typ    leadflow.EventType
	name   string
	props  map[string]any
	rule   int // hidden behaviour rule
	source int64
}

// Pages are drawn from lookup tables: one per intent level, indexed by the
// top bits of a random number.
const (
	intentLevels  = 32
	pageTableBits = 10
)

type pageDef struct {
	path, name, title string
	low, high         float64 // weight for a lead of intent 0 and of intent 1
	rule              int
}

var pages = []pageDef{
	{"/", "Home", "リード管理を、ひとつの流れに", 10, 6, rulePage},
	{"/pricing", "Pricing", "料金プラン", 1, 12, rulePricing},
	{"/pricing/enterprise", "Pricing", "エンタープライズプラン", 0.3, 5, rulePricing},
	{"/product/scoring", "Product", "リードスコアリング", 3, 8, ruleProduct},
	{"/product/nurture", "Product", "ナーチャリング", 2, 5, ruleProduct},
	{"/product/integrations", "Product", "CRM・SFA連携", 1.5, 5, ruleProduct},
	{"/blog/what-is-mql", "Blog", "MQLとは？定義と決め方", 8, 2, rulePage},
	{"/blog/lead-scoring-guide", "Blog", "リードスコアリングの始め方", 7, 3, rulePage},
	{"/blog/bant", "Blog", "BANT情報の聞き方", 5, 2, rulePage},
	{"/blog/nurturing-email", "Blog", "ナーチャリングメールの設計", 5, 1.5, rulePage},
	{"/blog/sla-marketing-sales", "Blog", "マーケティングと営業のSLA", 4, 2, rulePage},
	{"/case-studies/manufacturing", "Case Study", "製造業A社: 商談化率が2倍に", 1, 5, ruleProduct},
	{"/case-studies/it", "Case Study", "IT企業B社: MQL定義を見直す", 1, 4, ruleProduct},
	{"/case-studies/finance", "Case Study", "金融C社: SLA遵守率95%", 0.5, 3, ruleProduct},
	{"/about", "About", "会社概要", 2, 1, rulePage},
	{"/careers", "Careers", "採用情報", 2, 0.2, rulePage},
	{"/contact", "Contact", "お問い合わせ", 0.3, 3, rulePage},
}

var whitepapers = []string{
	"リードスコアリング入門ガイド", "MQL・SQL定義テンプレート", "BANTヒアリングシート",
	"マーケティングと営業のSLA設計", "製造業のデジタルマーケティング事例集", "ナーチャリングメール設計ガイド",
}

var webinars = []string{"はじめてのリードスコアリング", "展示会リードを商談につなげる方法", "インサイドセールス立ち上げ講座"}

var seminars = [][2]string{{"営業DXセミナー", "東京"}, {"MA活用セミナー", "大阪"}, {"マーケティング×セールス連携フォーラム", "名古屋"}}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
}

// uaWeights: office PCs dominate B2B traffic.
var uaWeights = []float64{55, 20, 12, 13}

// month is one month of the newsletter: its templates and campaign.
type month struct {
	start        int64 // unix seconds, first instant of the month in JST
	open, click  tmpl
	ctx          map[string]any   // the MA platform's, for email events
	webCtx       []map[string]any // analytics.js with the UTM, per user agent
	attribution  leadflow.Attribution
	unsubscribed tmpl
}

// content is every shared template and map of one Generate call.
type content struct {
	pages       []tmpl
	downloads   []tmpl
	webinars    []tmpl
	seminars    []tmpl
	handRaisers []tmpl
	webCtx      [][]map[string]any // [touch+1][ua]; index 0 has no campaign
	offlineCtx  map[string]any
	maCtx       map[string]any
	months      []month
	uaCum       []float64
	touchAttr   []leadflow.Attribution
	pageTables  [intentLevels][1 << pageTableBits]uint8 // page drawn by intent level and a uniform
	paid        []int                                   // touches a later web visit may come from
}

var jst = time.FixedZone("JST", 9*3600)

func newContent(lo, hi int64) *content {
	c := &content{uaCum: cumulative(uaWeights)}
	for _, p := range pages {
		c.pages = append(c.pages, tmpl{leadflow.EventPage, p.name,
			map[string]any{"path": p.path, "title": p.title, "url": siteURL + p.path}, p.rule, SourceWeb})
	}
	for i, w := range whitepapers {
		c.downloads = append(c.downloads, tmpl{leadflow.EventTrack, "Document Downloaded",
			map[string]any{"title": w, "asset_id": fmt.Sprintf("wp-%02d", i+1), "format": "pdf"}, ruleDownload, SourceWeb})
	}
	for _, w := range webinars {
		c.webinars = append(c.webinars, tmpl{leadflow.EventTrack, "Webinar Attended",
			map[string]any{"webinar": w, "duration_min": 45}, ruleSeminar, SourceMA})
	}
	for _, s := range seminars {
		c.seminars = append(c.seminars, tmpl{leadflow.EventTrack, "Seminar Attended",
			map[string]any{"seminar": s[0], "venue": s[1]}, ruleSeminar, SourceOffline})
	}
	c.handRaisers = []tmpl{
		{leadflow.EventTrack, "Demo Requested", map[string]any{"form": "demo", "path": "/demo"}, ruleHandRaise, SourceWeb},
		{leadflow.EventTrack, "Contact Sales", map[string]any{"form": "contact", "topic": "導入のご相談", "path": "/contact"}, ruleHandRaise, SourceWeb},
		{leadflow.EventTrack, "Quote Requested", map[string]any{"form": "quote", "plan": "Enterprise", "path": "/pricing/quote"}, ruleHandRaise, SourceWeb},
	}
	lib := map[string]any{"name": "analytics.js", "version": "5.2.0"}
	for t := -1; t < len(touches); t++ {
		row := make([]map[string]any, len(userAgents))
		for u, ua := range userAgents {
			m := map[string]any{"library": lib, "locale": "ja-JP", "userAgent": ua}
			if t >= 0 && touches[t].campaign != "" {
				m["campaign"] = map[string]any{"source": touches[t].source, "medium": touches[t].medium, "name": touches[t].campaign}
			}
			row[u] = m
		}
		c.webCtx = append(c.webCtx, row)
		if t >= 0 {
			d := touches[t]
			c.touchAttr = append(c.touchAttr, leadflow.Attribution{Source: d.source, Medium: d.medium, Campaign: d.campaign})
			if d.medium == "cpc" || d.medium == "paid_social" {
				c.paid = append(c.paid, t)
			}
		}
	}
	for lv := range c.pageTables {
		intent := float64(lv) / (intentLevels - 1)
		w := weights(len(pages), func(i int) float64 { return pages[i].low*(1-intent) + pages[i].high*intent })
		cum := cumulative(w)
		for j := range c.pageTables[lv] {
			x := (float64(j) + 0.5) / (1 << pageTableBits) * cum[len(cum)-1]
			k := 0
			for cum[k] <= x {
				k++
			}
			c.pageTables[lv][j] = uint8(k)
		}
	}
	c.offlineCtx = map[string]any{"library": map[string]any{"name": "leadflow-csv-import"}}
	ma := map[string]any{"name": "leadflow-ma", "version": "1.0"}
	c.maCtx = map[string]any{"library": ma}
	c.months = newsletterMonths(lo, hi, lib, ma)
	return c
}

// newsletterMonths builds one newsletter issue per month of the window.
func newsletterMonths(lo, hi int64, lib, ma map[string]any) []month {
	var ms []month
	t := time.Unix(lo, 0).In(jst)
	m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, jst)
	for ; m.Unix() <= hi; m = m.AddDate(0, 1, 0) {
		id := fmt.Sprintf("nl-%04d-%02d", m.Year(), int(m.Month()))
		subject := fmt.Sprintf("【leadflow通信】%d月号: %s", int(m.Month()), whitepapers[int(m.Month())%len(whitepapers)])
		a := leadflow.Attribution{Source: "newsletter", Medium: "email", Campaign: id}
		campaign := map[string]any{"source": a.Source, "medium": a.Medium, "name": a.Campaign}
		web := make([]map[string]any, len(userAgents))
		for u, ua := range userAgents {
			web[u] = map[string]any{"library": lib, "locale": "ja-JP", "userAgent": ua, "campaign": campaign}
		}
		ms = append(ms, month{
			start: m.Unix(),
			open: tmpl{leadflow.EventTrack, "Email Opened",
				map[string]any{"campaign_id": id, "subject": subject}, ruleEmailOpen, SourceMA},
			click: tmpl{leadflow.EventTrack, "Email Link Clicked",
				map[string]any{"campaign_id": id, "url": siteURL + "/blog/lead-scoring-guide?utm_source=newsletter&utm_medium=email&utm_campaign=" + id},
				ruleEmailClick, SourceMA},
			unsubscribed: tmpl{leadflow.EventTrack, "Unsubscribed",
				map[string]any{"campaign_id": id, "list": "newsletter"}, ruleUnsubscribe, SourceMA},
			ctx:         map[string]any{"library": ma, "campaign": campaign},
			webCtx:      web,
			attribution: a,
		})
	}
	return ms
}

// monthAt returns the newsletter month containing unix time t.
func (c *content) monthAt(t int64) *month {
	lo, hi := 0, len(c.months)-1
	for lo < hi {
		m := (lo + hi + 1) / 2
		if c.months[m].start <= t {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return &c.months[lo]
}
