// Package traffic generates realistic, deterministic Segment traffic for the
// load command (cmd/lfload) and the ingestion benchmarks, so both send the
// same bytes.
package traffic

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Traffic is a deterministic stream of Segment messages shaped like a B2B
// web site's: page views, track events and identify calls of new and
// returning visitors, about 650 bytes each, with random UUIDs as message ids
// (as analytics.js and analytics-node send them). The same seed always
// gives the same bytes. internal/flow/bench_test.go uses the same model.
type Traffic struct {
	r          *rand.Rand
	seed       uint64
	identified []bool        // per person: has sent identify
	clock      time.Time     // originalTimestamp of the next message
	step       time.Duration // between two messages
}

const (
	pNew           = 0.10 // a message is from a visitor not seen before
	pIdentifyAnon  = 0.15 // an unknown visitor fills in a form
	pIdentifyAgain = 0.03 // a known lead updates its traits
	pTrack         = 0.30 // of the other calls; the rest are page views
)

// Pages and track events with their weights: most calls are page views and
// email engagement; downloads, webinars and demo requests are rare, so that
// a minority of leads qualifies, as in a real funnel.
var (
	pages = []struct {
		w           int
		path, title string
	}{
		{25, "/", "Example | リード管理をもっとシンプルに"}, {20, "/blog/lead-nurturing-101", "リードナーチャリング入門 | Example"},
		{15, "/product/scoring", "リードスコアリング | Example"}, {10, "/product/routing", "リード振り分け | Example"},
		{10, "/docs/getting-started", "はじめに | Example Docs"}, {8, "/case-studies/manufacturing", "導入事例: 製造業 | Example"},
		{8, "/pricing", "料金プラン | Example"}, {4, "/webinars", "ウェビナー一覧 | Example"},
	}
	tracks = []struct {
		w           int
		name, props string
	}{
		{40, "Email Opened", `{"campaign":"newsletter-2025-06","subject":"6月のお知らせ: スコアリング設計の勘所","client":"gmail"}`},
		{25, "Email Link Clicked", `{"campaign":"newsletter-2025-06","link":"https://www.example.co.jp/webinars?utm_source=newsletter"}`},
		{20, "Feature Tour Started", `{"tour":"scoring","step":1,"variant":"b"}`},
		{10, "Document Downloaded", `{"document":"2025年版 リード管理ホワイトペーパー","category":"whitepaper","format":"pdf"}`},
		{4, "Webinar Attended", `{"webinar":"スコアリング設計の勘所","duration_min":45}`},
		{1, "Demo Requested", `{"form":"demo","plan":"business"}`},
	}
	agents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	}
	titles     = []string{"Marketing Manager", "営業部長", "Engineer", "Director of Sales", "主任"}
	industries = []string{"manufacturing", "it", "finance", "retail", "logistics"}
)

// New returns the traffic of a seed: the same seed gives the same bytes.
func New(seed uint64) *Traffic {
	return &Traffic{r: rand.New(rand.NewPCG(seed, 0x1eadf10)), seed: seed,
		clock: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), step: 7 * time.Millisecond}
}

// Batch appends a /v1/batch body of n messages to buf. sentAt makes the
// server place the events just before it received them (Segment's clock
// skew correction), so payloads stay byte-identical from run to run.
func (t *Traffic) Batch(buf []byte, n int) []byte {
	buf = append(buf, `{"batch":[`...)
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = t.message(buf)
	}
	return fmt.Appendf(buf, `],"sentAt":%q}`, t.clock.Format(time.RFC3339Nano))
}

// message appends one message of a new or returning visitor.
func (t *Traffic) message(buf []byte) []byte {
	p := t.person()
	anon, user := t.anonID(p), fmt.Sprintf("usr_%08d", p)
	ip := fmt.Sprintf("198.51.100.%d", p%250+1)
	ts := t.clock.Format(time.RFC3339Nano)
	t.clock = t.clock.Add(t.step)
	known := t.identified[p]
	if x := t.r.Float64(); !known && x < pIdentifyAnon || known && x < pIdentifyAgain {
		t.identified[p] = true
		return fmt.Appendf(buf, `{"type":"identify","messageId":%q,"anonymousId":%q,"userId":%q,`+
			`"traits":{"email":"lead%d@corp%d.example.co.jp","name":"見込 太郎 %d","company":"株式会社サンプル%d","title":%q,`+
			`"industry":%q,"employees":%d,"country":"JP","phone":"03-5555-%04d"},`+
			`"context":{"library":{"name":"analytics.js","version":"next-1.70.0"},"ip":%q,"locale":"ja-JP","userAgent":%q},`+
			`"originalTimestamp":%q}`,
			t.messageID(), anon, user, p, p%5000, p, p%5000, titles[p%len(titles)], industries[p%len(industries)],
			10+p%3000, p%10000, ip, agents[p%len(agents)], ts)
	}
	uid := ""
	if known {
		uid = fmt.Sprintf(`"userId":%q,`, user)
	}
	if t.r.Float64() < pTrack {
		ev := tracks[pick(t.r, len(tracks), func(i int) int { return tracks[i].w })]
		return fmt.Appendf(buf, `{"type":"track","messageId":%q,"anonymousId":%q,%s"event":%q,"properties":%s,`+
			`"context":{"library":{"name":"analytics.js","version":"next-1.70.0"},"ip":%q,"locale":"ja-JP",`+
			`"page":{"path":"/resources","url":"https://www.example.co.jp/resources"},"userAgent":%q},"originalTimestamp":%q}`,
			t.messageID(), anon, uid, ev.name, ev.props, ip, agents[p%len(agents)], ts)
	}
	pg := pages[pick(t.r, len(pages), func(i int) int { return pages[i].w })]
	return fmt.Appendf(buf, `{"type":"page","messageId":%q,"anonymousId":%q,%s"name":%q,`+
		`"properties":{"path":%q,"url":"https://www.example.co.jp%s","title":%q,"referrer":"https://www.google.com/"},`+
		`"context":{"library":{"name":"analytics.js","version":"next-1.70.0"},"ip":%q,"locale":"ja-JP",`+
		`"campaign":{"source":"google","medium":"cpc","name":"lead-mgmt-2025"},"userAgent":%q},"originalTimestamp":%q}`,
		t.messageID(), anon, uid, pg.title, pg.path, pg.path, pg.title, ip, agents[p%len(agents)], ts)
}

// person picks a visitor: a new one, or a returning one, recent visitors
// being the most active.
func (t *Traffic) person() int {
	n := len(t.identified)
	if n == 0 || t.r.Float64() < pNew {
		t.identified = append(t.identified, false)
		return n
	}
	u := t.r.Float64()
	return n - 1 - int(float64(n)*u*u*u)
}

// pick draws an index in [0, n) with the given weights out of 100.
func pick(r *rand.Rand, n int, weight func(int) int) int {
	x := r.IntN(100)
	for i := range n - 1 {
		if x -= weight(i); x < 0 {
			return i
		}
	}
	return n - 1
}

// messageID returns a random version 4 UUID, as SDKs send.
func (t *Traffic) messageID() string { return uuid(t.r.Uint64(), t.r.Uint64()) }

// anonID returns visitor p's anonymous id, derived from the seed.
func (t *Traffic) anonID(p int) string {
	s := rand.NewPCG(t.seed, uint64(p)+1)
	return uuid(s.Uint64(), s.Uint64())
}

func uuid(hi, lo uint64) string {
	hi = hi&^0xf000 | 0x4000
	lo = lo&^(3<<62) | 1<<63
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}
