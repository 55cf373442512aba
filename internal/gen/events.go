package gen

import (
	"math/bits"
	"slices"
	"time"

	"github.com/leadflow/leadflow"
)

// leadState is what the event generator tracks about the current lead.
type leadState struct {
	intent       float64
	touch, ua    int
	consent      bool
	identified   bool
	unsubscribed bool
	hands        int // hand-raisers so far
	idFrom       int // first event carrying the UserID
	lastTouch    *leadflow.Attribution
}

// Shape of the behaviour.
const (
	pSessionNearCreation = 0.5   // share of sessions in the weeks after creation
	nearCreationMean     = 30    // days
	pOffHours            = 0.12  // activity outside business hours
	pEmailSession        = 0.25  // for leads with consent
	pPaidVisit           = 0.12  // a later web visit came from an ad
	maxHandRaisers       = 2     // per lead
	heavyCreationScale   = 400.0 // heavy leads were created early
)

const jstOffset = 9 * hour

// businessTime moves t to a business hour (9:00–19:00 JST, peaking
// mid-afternoon) of a weekday, most of the time, staying inside [lo, hi].
func businessTime(r *rng, t, lo, hi int64) int64 {
	if r.chance(pOffHours) {
		return t
	}
	local := t + jstOffset
	d := floorDiv(local, day)
	switch (d + 4) % 7 { // 1970-01-01 was a Thursday; 0 is Sunday
	case 6:
		d += 2
	case 0:
		d++
	}
	u := d*day - jstOffset + 9*hour + int64((r.float()+r.float())/2*float64(10*hour))
	if u < lo || u > hi {
		return t
	}
	return u
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// events fills rec.Events with n events of the current lead, in time order,
// and feeds each to the hidden rule. MessageIDs go into g.buf.
func (g *generator) events(r *rng, rec *Record, st *leadState, n int, anon, user span) {
	rec.Events = slices.Grow(rec.Events[:0], n)[:n]
	g.msgOff = slices.Grow(g.msgOff[:0], n+1)[:n+1]
	st.idFrom = n
	if st.identified {
		st.idFrom = 0
	}
	if n == 0 {
		return
	}
	g.sess = g.sess[:0]
	for rem := n; rem > 0; {
		x := r.next() // extra events: a sum of two geometric(½) draws, mean 2
		L := min(rem, 1+bits.TrailingZeros32(uint32(x))+bits.TrailingZeros32(uint32(x>>32)))
		g.sess = append(g.sess, int32(L))
		rem -= L
	}
	lo, hi := g.lo, g.hi
	w := 1 / (1 + float64(n)/heavyCreationScale)
	created := businessTime(r, lo+int64(r.float()*w*float64(hi-lo)), lo, hi)
	g.starts = append(g.starts[:0], created)
	for range len(g.sess) - 1 {
		var t int64
		if r.chance(pSessionNearCreation) {
			t = created + int64(r.exp(nearCreationMean*float64(day)))
		}
		if t == 0 || t > hi {
			t = created + int64(r.float()*float64(hi-created))
		}
		g.starts = append(g.starts, businessTime(r, t, created, hi))
	}
	slices.Sort(g.starts[1:])

	c := g.content
	pageTable := &c.pageTables[int(st.intent*float64(len(c.pageTables)-1)+0.5)]
	pDownload := 0.04 + 0.16*st.intent
	pHand := 0.001 + 0.03*st.intent*st.intent*st.intent
	pEvent := 0.02 + 0.06*st.intent
	touch := touches[st.touch]

	leadID := rec.Lead.ID
	idx := 0
	t := created - 1
	for k, L := range g.sess {
		t = max(t+1, g.starts[k])
		// Session kind and its context.
		kind := 'w'
		ctx := c.webCtx[0][st.ua]
		switch {
		case k == 0 && touch.source == "seminar":
			kind = 's'
		case k == 0 && touch.medium == "email":
			kind = 'e'
		case k == 0:
			ctx = c.webCtx[st.touch+1][st.ua]
		default:
			x := r.float()
			switch {
			case x < pEvent:
				kind = 'v'
			case x < pEvent+pEmailSession && st.consent && !st.unsubscribed:
				kind = 'e'
			case x < pEvent+pEmailSession+pPaidVisit:
				p := c.paid[r.intn(len(c.paid))]
				ctx = c.webCtx[p+1][st.ua]
				st.lastTouch = &c.touchAttr[p]
			}
		}
		for j := range int(L) {
			if j > 0 {
				t += 15 + int64(r.float()*r.float()*300) // mean 90 s, mostly short
			}
			if t > hi {
				t = hi
			}
			var tp *tmpl
			evCtx := ctx
			switch {
			case j == 0 && kind == 'e':
				m := c.monthAt(t)
				tp, evCtx = &m.open, m.ctx
				if r.chance(0.002 + 0.01*(1-st.intent)) {
					tp = &m.unsubscribed
					st.unsubscribed = true
				}
				ctx = m.webCtx[st.ua] // pages the email led to
			case j == 1 && kind == 'e' && !st.unsubscribed:
				m := c.monthAt(t)
				tp, evCtx = &m.click, m.ctx
				st.lastTouch = &m.attribution
			case j == 0 && (kind == 's' || kind == 'v' && r.chance(0.3)):
				tp, evCtx = &c.seminars[r.intn(len(c.seminars))], c.offlineCtx
			case j == 0 && kind == 'v':
				tp, evCtx = &c.webinars[r.intn(len(c.webinars))], c.maCtx
			case j == int(L)-1 && kind == 'w':
				u := r.float()
				switch {
				case u < pHand && st.hands < maxHandRaisers:
					tp = &c.handRaisers[r.intn(len(c.handRaisers))]
					st.hands++
				case u < pHand+pDownload:
					tp = &c.downloads[r.intn(len(c.downloads))]
				}
			}
			if tp == nil {
				tp = &c.pages[pageTable[r.next()>>(64-pageTableBits)]]
			}
			if tp.rule != rulePage && tp.rule != rulePricing && tp.rule != ruleProduct && idx < st.idFrom {
				st.idFrom = idx // a form, an email or a seminar list names the lead
			}
			g.nextID++
			g.msgOff[idx] = int32(len(g.buf))
			if tp.source == SourceWeb {
				g.buf = append(g.buf, "ajs-"...)
			}
			g.buf = appendHexID(g.buf, mix64(uint64(g.nextID)^g.msgKey))
			ts := time.Unix(t, 0).UTC()
			recv := min(t+int64(r.intn(3)), hi)
			rec.Events[idx] = leadflow.Event{
				ID: g.nextID, SourceID: tp.source, LeadID: leadID,
				Type: tp.typ, Name: tp.name, Properties: tp.props, Context: evCtx,
				Timestamp: ts, ReceivedAt: time.Unix(recv, 0).UTC(),
			}
			g.truth.observe(t, tp.rule)
			idx++
		}
	}
	g.msgOff[n] = int32(len(g.buf))
}
