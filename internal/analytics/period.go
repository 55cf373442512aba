// Package analytics turns leadflow's history into the numbers marketing and
// sales review together: KPIs (funnel counts, cohort conversion, velocity,
// first touch, SLA compliance, rejections, costs and ROI, score
// distribution), monthly targets with a forecast, the review report, and
// the backtest that replays a draft scoring model over past leads to tune
// the MQL threshold. docs/kpis.md and docs/backtest.md define every
// figure; the tests pin those definitions.
//
// The arithmetic (buckets, quantiles, rates, the threshold sweep) is pure
// and takes time as an argument; reads go through internal/store.
package analytics

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// Intervals a report can be cut into.
const (
	Week    = "week"
	Month   = "month"
	Quarter = "quarter"
)

// Period is a half-open span of time [From, To) cut into calendar buckets
// of a time zone.
type Period struct {
	From, To time.Time
	Loc      *time.Location
	Interval string
}

// Bucket is one week, month or quarter of a period (clipped to it).
type Bucket struct {
	Label string    `json:"label"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// ParsePeriod reads the from, to, tz and interval parameters of the API
// and CLI. from and to are dates (YYYY-MM-DD, midnight in tz; to is
// inclusive, so --to 2026-06-30 ends at July 1st 00:00) or RFC 3339 times
// (to exclusive). Empty from is the first day of the month two months
// before now (three calendar months up to now); empty to is now. Empty tz
// is UTC; empty interval is month.
func ParsePeriod(from, to, tz, interval string, now time.Time) (Period, error) {
	var p Period
	loc, err := LoadZone(tz)
	if err != nil {
		return p, err
	}
	p.Loc = loc
	switch interval {
	case "":
		interval = Month
	case Week, Month, Quarter:
	default:
		return p, leadflow.Invalidf("interval", "unknown interval %q; use week, month or quarter", interval)
	}
	p.Interval = interval
	if to == "" {
		p.To = now
	} else if p.To, err = parseInstant(to, loc, true); err != nil {
		return p, leadflow.Invalidf("to", "%v", err)
	}
	if from == "" {
		n := now.In(loc)
		p.From = time.Date(n.Year(), n.Month()-2, 1, 0, 0, 0, 0, loc)
	} else if p.From, err = parseInstant(from, loc, false); err != nil {
		return p, leadflow.Invalidf("from", "%v", err)
	}
	if !p.To.After(p.From) {
		return p, leadflow.Invalidf("to", "the period must end after it starts (from %s, to %s)",
			p.From.In(loc).Format(time.RFC3339), p.To.In(loc).Format(time.RFC3339))
	}
	if p.To.Sub(p.From) > 10*366*24*time.Hour {
		return p, leadflow.Invalidf("to", "the period is longer than 10 years")
	}
	p.From, p.To = p.From.UTC(), p.To.UTC()
	return p, nil
}

// LoadZone loads an IANA time zone ("Asia/Tokyo"); empty is UTC.
func LoadZone(tz string) (*time.Location, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || strings.Contains(tz, "..") {
		return nil, leadflow.Invalidf("tz", "unknown time zone %q; use an IANA name such as Asia/Tokyo", tz)
	}
	return loc, nil
}

func parseInstant(s string, loc *time.Location, endOfDay bool) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (2026-01-31) nor an RFC 3339 time (2026-01-31T09:00:00+09:00)", s)
}

// Previous returns the period of the same length just before p.
func (p Period) Previous() Period {
	q := p
	q.To = p.From
	q.From = p.From.Add(-p.To.Sub(p.From))
	// A period of whole months compares with the same number of months.
	f, t := p.From.In(p.Loc), p.To.In(p.Loc)
	if f.Day() == 1 && t.Day() == 1 && isMidnight(f) && isMidnight(t) {
		months := (t.Year()-f.Year())*12 + int(t.Month()-f.Month())
		q.From = f.AddDate(0, -months, 0).UTC()
	}
	return q
}

func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// bucketStart returns the start of the bucket containing t (in p.Loc).
func (p Period) bucketStart(t time.Time) time.Time {
	l := t.In(p.Loc)
	switch p.Interval {
	case Week:
		d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, p.Loc)
		wd := (int(d.Weekday()) + 6) % 7 // Monday = 0
		return d.AddDate(0, 0, -wd)
	case Quarter:
		return time.Date(l.Year(), l.Month()-(l.Month()-1)%3, 1, 0, 0, 0, 0, p.Loc)
	}
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, p.Loc)
}

func (p Period) next(start time.Time) time.Time {
	switch p.Interval {
	case Week:
		return start.AddDate(0, 0, 7)
	case Quarter:
		return start.AddDate(0, 3, 0)
	}
	return start.AddDate(0, 1, 0)
}

func (p Period) label(start time.Time) string {
	switch p.Interval {
	case Week:
		y, w := start.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", start.Year(), (int(start.Month())-1)/3+1)
	}
	return start.Format("2006-01")
}

// Buckets lists the period's weeks, months or quarters, the first and last
// clipped to the period.
func (p Period) Buckets() []Bucket {
	var out []Bucket
	for s := p.bucketStart(p.From); s.Before(p.To); s = p.next(s) {
		b := Bucket{Label: p.label(s), From: s.UTC(), To: p.next(s).UTC()}
		if b.From.Before(p.From) {
			b.From = p.From
		}
		if b.To.After(p.To) {
			b.To = p.To
		}
		out = append(out, b)
	}
	return out
}

// Months lists the calendar months (YYYY-MM, in p.Loc) the period touches.
func (p Period) Months() []string {
	q := p
	q.Interval = Month
	var out []string
	for _, b := range q.Buckets() {
		out = append(out, b.Label)
	}
	return out
}

// units says how store rows are cut: a row's unit is (t + offset) /
// granularity (unix microseconds). When the zone's offset is the same over
// the whole period, a unit is a local day; otherwise (a daylight saving
// change) it is a quarter hour, which every zone's midnight falls on.
type units struct {
	offset, gran int64
	p            Period
	starts       []time.Time // bucket starts, ascending
	cache        map[int64]int
}

const (
	dayMicros     = int64(24 * time.Hour / time.Microsecond)
	quarterMicros = int64(15 * time.Minute / time.Microsecond)
)

func newUnits(p Period) *units {
	u := &units{p: p, cache: map[int64]int{}}
	_, off := p.From.In(p.Loc).Zone()
	constant := true
	for d := p.From; d.Before(p.To.Add(24 * time.Hour)); d = d.Add(6 * time.Hour) {
		if _, o := d.In(p.Loc).Zone(); o != off {
			constant = false
			break
		}
	}
	if constant && off%(15*60) == 0 {
		u.offset, u.gran = int64(off)*1e6, dayMicros
	} else {
		u.offset, u.gran = 0, quarterMicros
	}
	for _, b := range p.Buckets() {
		u.starts = append(u.starts, b.From)
	}
	return u
}

// bucket maps a unit to its bucket index. Rows are already limited to the
// period, so a unit that starts before a period starting mid-day belongs
// to the first bucket.
func (u *units) bucket(unit int64) int {
	if i, ok := u.cache[unit]; ok {
		return i
	}
	t := time.UnixMicro(unit*u.gran - u.offset).UTC()
	i := max(0, sort.Search(len(u.starts), func(i int) bool { return u.starts[i].After(t) })-1)
	u.cache[unit] = i
	return i
}
