package gen

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// generator holds what one Generate call shares across leads, and scratch
// space reused from lead to lead.
type generator struct {
	cfg      Config
	lo, hi   int64 // the window, unix seconds
	counts   *eventCounts
	content  *content
	nextID   int64 // last event id handed out
	msgKey   uint64
	anonKey  uint64
	titleCum []float64
	prefCum  []float64
	touchCum []float64

	companies    int
	companyMul   int
	companySlots []int32 // leads seen so far per company

	westernLastLower, westernFirstLower []string

	truth  truth
	buf    []byte  // every string of the current lead, converted once
	msgOff []int32 // message id offsets in buf, one per event plus the end
	sess   []int32 // session lengths
	starts []int64 // session start times
}

func newGenerator(c Config) *generator {
	hi := c.End.Unix()
	lo := hi - int64(c.Days)*day
	if c.End.Nanosecond() > 0 {
		lo++ // End-Days×24h has a fraction; the first whole second after it
	}
	g := &generator{
		cfg: c, lo: lo, hi: hi,
		counts:   newEventCounts(c.Seed, c.Leads, c.Events),
		content:  newContent(lo, hi),
		msgKey:   mix64(uint64(c.Seed) ^ mix64(saltMsg)),
		anonKey:  mix64(uint64(c.Seed) ^ mix64(saltAnon)),
		titleCum: cumulative(weights(len(titles), func(i int) float64 { return titles[i].weight })),
		prefCum:  cumulative(weights(len(prefectures), func(i int) float64 { return prefectures[i].weight })),
		touchCum: cumulative(weights(len(touches), func(i int) float64 { return touches[i].weight })),
	}
	g.companies = max(1, c.Leads/3)
	g.companyMul = 1_000_003 // any multiplier coprime to companies permutes them
	for gcd(g.companyMul, g.companies) != 1 {
		g.companyMul += 2
	}
	g.companySlots = make([]int32, g.companies)
	for i := range westernLast {
		g.westernLastLower = append(g.westernLastLower, strings.ToLower(westernLast[i]))
		g.westernFirstLower = append(g.westernFirstLower, strings.ToLower(westernFirst[i]))
	}
	return g
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func weights(n int, f func(int) float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = f(i)
	}
	return w
}

// company is the employer of a lead; every attribute derives from its index.
type company struct {
	prefix    namePair
	core      companyCore
	k         int // repeats of the same prefix+core name, for a unique domain
	employees int
	pref      prefecture
	corpFirst bool // "株式会社X" rather than "X株式会社"
}

func (g *generator) company(idx int) company {
	r := newRNG(g.cfg.Seed, saltCompany, uint64(idx))
	// idx → (combo, k) is a bijection, and so is the scrambling of combo by
	// a prime multiplier, which spreads even a small company set over every
	// industry.
	combos := len(companyPrefixes) * len(companyCores)
	combo := (idx % combos) * 1_000_003 % combos
	c := company{
		prefix: companyPrefixes[combo/len(companyCores)],
		core:   companyCores[combo%len(companyCores)],
		k:      idx / combos,
	}
	emp := 60 * c.core.size * math.Exp(1.5*r.norm())
	c.employees = int(math.Min(50_000, math.Max(5, emp)))
	c.pref = prefectures[r.pick(g.prefCum)]
	c.corpFirst = r.chance(0.4)
	return c
}

// span is a [start, end) range of g.buf.
type span struct{ a, b int32 }

func (g *generator) mark(a int) span { return span{int32(a), int32(len(g.buf))} }

func sub(s string, sp span) string { return s[sp.a:sp.b] }

// generate fills rec with lead i.
func (g *generator) generate(i int, rec *Record) {
	r := newRNG(g.cfg.Seed, saltLead, uint64(i))
	n := g.counts.count(i)
	g.buf = g.buf[:0]
	l := &rec.Lead
	*l = leadflow.Lead{ID: int64(i + 1), Stage: leadflow.StageLead}

	// Company: a skewed pick so large accounts have many leads, scattered
	// over the index space by an odd multiplier.
	rank := int(float64(g.companies) * math.Pow(r.float(), 1.5))
	ci := int((uint64(rank)*uint64(g.companyMul) + uint64(g.cfg.Seed&0xffff)) % uint64(g.companies))
	co := g.company(ci)
	slot := int(g.companySlots[ci])
	g.companySlots[ci]++

	// Person.
	foreign := r.chance(0.03)
	western := foreign || r.chance(0.04)
	l.Country, l.Region = "JP", co.pref.name
	if foreign {
		l.Country, l.Region = foreignCountries[r.intn(len(foreignCountries))], ""
	}
	var first, last, fKanji, lKanji string
	if western {
		fi, li := r.intn(len(westernFirst)), r.intn(len(westernLast))
		first, last = g.westernFirstLower[fi], g.westernLastLower[li]
		fKanji, lKanji = westernFirst[fi], westernLast[li]
	} else {
		gn, fn := givenNames[r.intn(len(givenNames))], familyNames[r.intn(len(familyNames))]
		first, last, fKanji, lKanji = gn.roma, fn.roma, gn.kanji, fn.kanji
	}
	a := len(g.buf)
	if western {
		g.buf = append(append(append(g.buf, fKanji...), ' '), lKanji...)
	} else {
		g.buf = append(append(append(g.buf, lKanji...), ' '), fKanji...)
	}
	nameSp := g.mark(a)
	td := titles[r.pick(g.titleCum)]
	l.Title = td.title

	// Email: name-based; the trailing digits (company slot or lead number)
	// and the per-company domain make every address unique.
	freeMail := r.chance(0.15) || td.seniority == senStudent && r.chance(0.6)
	a = len(g.buf)
	switch r.intn(4) {
	case 0:
		g.buf = append(append(append(g.buf, last...), '.'), first...)
	case 1:
		g.buf = append(append(append(g.buf, first[0]), '.'), last...)
	default:
		g.buf = append(append(append(g.buf, first...), '.'), last...)
	}
	if freeMail {
		g.buf = strconv.AppendInt(g.buf, int64(i+1), 10)
		g.buf = append(append(g.buf, '@'), freeMailDomains[r.intn(len(freeMailDomains))]...)
	} else {
		if slot > 0 {
			g.buf = strconv.AppendInt(g.buf, int64(slot+1), 10)
		}
		g.buf = append(append(append(append(g.buf, '@'), co.prefix.roma...), '-'), co.core.roma...)
		if co.k > 0 {
			g.buf = strconv.AppendInt(g.buf, int64(co.k+1), 10)
		}
		g.buf = append(g.buf, co.core.tld...)
	}
	emailSp := g.mark(a)

	a = len(g.buf)
	if co.corpFirst && co.core.corp {
		g.buf = append(g.buf, "株式会社"...)
	}
	g.buf = append(append(g.buf, co.prefix.kanji...), co.core.kanji...)
	if !co.corpFirst && co.core.corp {
		g.buf = append(g.buf, "株式会社"...)
	}
	companySp := g.mark(a)

	var phoneSp span
	if !foreign && r.chance(0.7) {
		a = len(g.buf)
		g.buf = append(append(g.buf, co.pref.area...), '-')
		local := 8 - (len(co.pref.area) - 1) // 10 digits in all
		g.buf = appendDigits(g.buf, r.intn(pow10(local/2)), local/2)
		g.buf = appendDigits(append(g.buf, '-'), r.intn(pow10(local-local/2)), local-local/2)
		phoneSp = g.mark(a)
	}
	a = len(g.buf)
	g.buf = appendHexID(g.buf, mix64(uint64(i)^g.anonKey))
	anonSp := g.mark(a)
	a = len(g.buf)
	g.buf = appendDigits(append(g.buf, "LF"...), i+1, 8)
	userSp := g.mark(a)

	l.Industry, l.Employees, l.Title = co.core.industry, co.employees, td.title
	touch := r.pick(g.touchCum)
	t := touches[touch]
	l.FirstTouch = leadflow.Attribution{Source: t.source, Medium: t.medium, Campaign: t.campaign}
	l.LastTouch = l.FirstTouch
	l.Consent = r.chance(0.9)

	// Hidden fit and latent intent.
	fit := hiddenFit(l.Industry, l.Employees, td.seniority, freeMail, foreign)
	intent := 0.7*sq(r.float()) + 0.25*math.Max(0, fit)/44 + t.intent + 0.05*r.norm()
	if td.seniority == senStudent {
		intent *= 0.4
	}
	intent = math.Min(1, math.Max(0, intent))
	g.truth.reset(fit, g.cfg.HiddenThreshold)

	st := leadState{intent: intent, touch: touch, ua: r.pick(g.content.uaCum), consent: l.Consent,
		identified: t.medium == "offline" || t.medium == "email" || t.medium == "referral"}
	g.events(&r, rec, &st, n, anonSp, userSp)

	s := string(g.buf)
	l.Name, l.Email, l.Company = sub(s, nameSp), sub(s, emailSp), sub(s, companySp)
	if phoneSp.b > 0 {
		l.Phone = sub(s, phoneSp)
	}
	rec.anonID[0], rec.externalID[0] = sub(s, anonSp), sub(s, userSp)
	l.AnonymousIDs, l.ExternalIDs = rec.anonID[:], rec.externalID[:]
	for j := range rec.Events {
		e := &rec.Events[j]
		e.MessageID = s[g.msgOff[j]:g.msgOff[j+1]]
		if e.SourceID == SourceWeb {
			e.AnonymousID = rec.anonID[0]
		}
		if st.idFrom <= j {
			e.UserID = rec.externalID[0]
		}
	}
	l.Unsubscribed = st.unsubscribed
	if st.lastTouch != nil {
		l.LastTouch = *st.lastTouch
	}
	if len(rec.Events) > 0 {
		l.CreatedAt, l.UpdatedAt = rec.Events[0].Timestamp, rec.Events[len(rec.Events)-1].Timestamp
	} else {
		at := time.Unix(g.lo+int64(r.float()*float64(g.hi-g.lo)), 0).UTC()
		l.CreatedAt, l.UpdatedAt = at, at
	}
	or := newRNG(g.cfg.Seed, saltOutcome, uint64(i))
	g.truth.outcome(&or, rec, g.hi, l.Employees, td.seniority)
}

func sq(x float64) float64 { return x * x }

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// appendDigits appends v in decimal, zero-padded to at least width digits.
func appendDigits(b []byte, v, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || width > 0 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	return append(b, tmp[i:]...)
}

const hexDigits = "0123456789abcdef"

// appendHexID appends a UUID-shaped identifier of a. Its first 16 hex
// digits are a itself, so ids are unique when a is a bijection of the thing
// identified; the rest is a hash of a.
func appendHexID(b []byte, a uint64) []byte {
	c := mix64(a ^ 0xa0761d6478bd642f)
	var t [36]byte
	putHex(t[0:8], a>>32)
	t[8] = '-'
	putHex(t[9:13], a>>16)
	t[13] = '-'
	putHex(t[14:18], a)
	t[18] = '-'
	putHex(t[19:23], c>>48)
	t[23] = '-'
	putHex(t[24:36], c)
	return append(b, t[:]...)
}

// putHex fills dst (of even length) with the len(dst) lowest hex digits of
// v, two at a time.
func putHex(dst []byte, v uint64) {
	for i := len(dst) - 2; i >= 0; i -= 2 {
		b := v & 0xff
		dst[i], dst[i+1] = hexDigits[b>>4], hexDigits[b&0xf]
		v >>= 8
	}
}
