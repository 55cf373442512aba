package analytics

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// Query asks for the KPIs of a period.
type Query struct {
	Period
	// GroupBy is source, medium, campaign, industry, owner, team or "".
	GroupBy string
	// Now is the "by now" of cohort conversion and SLA clocks; the zero
	// time means time.Now.
	Now time.Time
}

// Report is the KPIs of a period: for all leads and, with a breakdown,
// for each group, over the whole period (Total) and per bucket.
type Report struct {
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	TZ       string        `json:"tz"`
	Interval string        `json:"interval"`
	GroupBy  string        `json:"group_by,omitempty"`
	AsOf     time.Time     `json:"as_of" doc:"The 'by now' of cohort conversion and SLA clocks"`
	Buckets  []Bucket      `json:"buckets"`
	All      GroupReport   `json:"all"`
	Groups   []GroupReport `json:"groups,omitempty"`
	// Costs lists, per campaign (and currency) with costs in the period,
	// the cost per lead, MQL, SQL and customer and the ROI.
	Costs []CampaignROI `json:"costs"`
}

// GroupReport is the KPIs of one group ("" is leads without the
// attribute; All's Group is "*").
type GroupReport struct {
	Group   string    `json:"group"`
	Total   Figures   `json:"total"`
	Buckets []Figures `json:"buckets"`
	// Scores is the current score distribution of the leads created in the
	// period, in bins of 10 points.
	Scores []ScoreBin `json:"scores"`
}

// Figures are the KPIs of one group over one bucket (or the whole period).
type Figures struct {
	Label string    `json:"label"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// Counts: leads created, and leads that first reached each stage (or a
	// later one) in the span.
	Counts      Counts       `json:"counts"`
	Conversions []Conversion `json:"conversions"`
	Velocity    []Velocity   `json:"velocity"`
	// FirstTouch: from reaching MQL to the first sales touch, for the
	// MQLs of the span; Untouched counts those without a touch yet.
	FirstTouch Durations `json:"first_touch"`
	Untouched  int64     `json:"untouched"`
	SLA        SLA       `json:"sla"`
	// Recycled and Disqualified count the transitions of the span;
	// Rejections counts those made by sales (a person or API client) out
	// of mql, sal, sql or hql, by reason id.
	Recycled     int64         `json:"recycled"`
	Disqualified int64         `json:"disqualified"`
	Rejections   []ReasonCount `json:"rejections"`
	// RecycledLeads counts the leads of the span's lead cohort (created in
	// it) that were recycled at least once.
	RecycledLeads int64   `json:"recycled_leads"`
	Won           []Money `json:"won"`
	WonDeals      int64   `json:"won_deals"`
}

// Counts are funnel counts.
type Counts struct {
	Leads         int64 `json:"leads"`
	MQLs          int64 `json:"mqls"`
	SALs          int64 `json:"sals"`
	SQLs          int64 `json:"sqls"`
	HQLs          int64 `json:"hqls"`
	Opportunities int64 `json:"opportunities"`
	Customers     int64 `json:"customers"`
}

func (c *Counts) at(i int) *int64 {
	return [...]*int64{&c.Leads, &c.MQLs, &c.SALs, &c.SQLs, &c.HQLs, &c.Opportunities, &c.Customers}[i]
}

// Conversion is one stage-to-stage conversion, by cohort and by period.
type Conversion struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Cohort: of the leads that first reached From in the span, how many
	// have reached To by AsOf.
	Cohort     int64    `json:"cohort"`
	Converted  int64    `json:"converted"`
	CohortRate *float64 `json:"cohort_rate"`
	// PeriodRate is Counts[To] / Counts[From] of the span.
	PeriodRate *float64 `json:"period_rate"`
}

// Velocity is the time from reaching one stage to reaching the next, for
// the leads that reached To in the span.
type Velocity struct {
	From string `json:"from"`
	To   string `json:"to"`
	Durations
}

// SLA counts the SLA clocks started in the span.
type SLA struct {
	Met        int64    `json:"met"`
	Breached   int64    `json:"breached"`
	Running    int64    `json:"running"`
	Canceled   int64    `json:"canceled"`
	Compliance *float64 `json:"compliance" doc:"met / (met + breached)"`
	// Policies breaks the figures down by SLA policy.
	Policies []PolicySLA `json:"policies,omitempty"`
}

// PolicySLA is one policy's share of SLA.
type PolicySLA struct {
	Policy     string   `json:"policy"`
	Met        int64    `json:"met"`
	Breached   int64    `json:"breached"`
	Compliance *float64 `json:"compliance"`
}

// ReasonCount counts one rejection reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// Money is an amount in one currency.
type Money struct {
	Currency string  `json:"currency"`
	Amount   float64 `json:"amount"`
}

// ScoreBin counts the leads whose score is in [From, From+10).
type ScoreBin struct {
	From  int   `json:"from"`
	Count int64 `json:"count"`
}

// Conversions reported, as indexes into store.FunnelStages.
var conversionPairs = [][2]int{{0, 1}, {1, 2}, {1, 3}, {3, 5}, {5, 6}, {0, 6}}

// accumulator gathers the rows of one group and bucket (or total).
type accumulator struct {
	n          [7]int64
	reached    [7][7]int64
	recycledC  int64
	sla        map[string]*PolicySLA
	slaRun     int64
	slaCancel  int64
	recycled   int64
	disq       int64
	rejections map[string]int64
	won        map[string]float64
	wonDeals   int64
	scores     map[int]int64
}

type accKey struct {
	group  string
	bucket int // -1: the whole period
}

type accumulators struct {
	m       map[accKey]*accumulator
	grouped bool
	groups  map[string]bool
	// fine holds the durations of each group (allGroup without a
	// breakdown) per bucket, the only place they are added: totals gather
	// them (see durations). last caches the latest fine lookup.
	fine     map[string][]*durs
	nBuckets int
	u        *units
	last     struct {
		group string
		unit  int64
		d     *durs
	}
}

// durs are the durations of velocity (per stage) and first touch; zeros
// counts the velocity durations of 0 not in dur (CohortRow.Zero).
type durs struct {
	dur       [7][]int64
	zeros     [7]int64
	touch     []int64
	untouched int64
}

func newAccumulators(grouped bool, u *units) *accumulators {
	return &accumulators{m: map[accKey]*accumulator{}, grouped: grouped, groups: map[string]bool{},
		fine: map[string][]*durs{}, nBuckets: len(u.starts), u: u}
}

// durs returns the durations of a group (ignored without a breakdown) and
// unit.
func (a *accumulators) durs(group string, unit int64) *durs {
	if !a.grouped {
		group = allGroup
	}
	if l := &a.last; l.d != nil && l.unit == unit && l.group == group {
		return l.d
	}
	bs := a.fine[group]
	if bs == nil {
		bs = make([]*durs, max(a.nBuckets, 1))
		a.fine[group] = bs
		if a.grouped {
			a.groups[group] = true
		}
	}
	b := a.u.bucket(unit)
	if bs[b] == nil {
		bs[b] = &durs{}
	}
	a.last.group, a.last.unit, a.last.d = group, unit, bs[b]
	return bs[b]
}

// durations gathers the durations of group g (allGroup: every group) and
// bucket b (-1: the whole period); the slices may be those of a fine
// accumulator (summarize reorders them, which changes nothing).
func (a *accumulators) durations(g string, b int) *durs {
	var parts []*durs
	for group, bs := range a.fine {
		if g != allGroup && group != g {
			continue
		}
		for i, d := range bs {
			if d != nil && (b == -1 || b == i) {
				parts = append(parts, d)
			}
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	out := &durs{}
	for i := range out.dur {
		n := 0
		for _, p := range parts {
			n += len(p.dur[i])
		}
		out.dur[i] = make([]int64, 0, n)
		for _, p := range parts {
			out.dur[i] = append(out.dur[i], p.dur[i]...)
		}
	}
	n := 0
	for _, p := range parts {
		n += len(p.touch)
	}
	out.touch = make([]int64, 0, n)
	for _, p := range parts {
		out.touch = append(out.touch, p.touch...)
		out.untouched += p.untouched
		for i, z := range p.zeros {
			out.zeros[i] += z
		}
	}
	return out
}

// allGroup names the all-leads accumulator; no group value starts with NUL.
const allGroup = "\x00all"

func (a *accumulators) each(group string, bucket int, fn func(*accumulator)) {
	keys := [4]accKey{{allGroup, bucket}, {allGroup, -1}, {group, bucket}, {group, -1}}
	n := 2
	if a.grouped {
		n = 4
		a.groups[group] = true
	}
	for i, k := range keys[:n] {
		if bucket == -1 && i%2 == 1 {
			continue // the total is the bucket
		}
		x := a.m[k]
		if x == nil {
			x = &accumulator{sla: map[string]*PolicySLA{}, rejections: map[string]int64{}, won: map[string]float64{}, scores: map[int]int64{}}
			a.m[k] = x
		}
		fn(x)
	}
}

func stageIndex(s string) int {
	for i, x := range store.FunnelStages {
		if x == s {
			return i
		}
	}
	return -1
}

// kpiParts says which reads a report makes (the review needs fewer).
type kpiParts uint8

const (
	partCohorts kpiParts = 1 << iota
	partVelocity
	partFirstTouch
	partSLA
	partRecycles
	partWon
	partScores
	partCosts
	allParts = partCohorts | partVelocity | partFirstTouch | partSLA | partRecycles | partWon | partScores | partCosts
)

// KPIs computes the report of q from the database.
func KPIs(ctx context.Context, db *store.DB, q Query) (*Report, error) {
	return kpis(ctx, db, q, allParts)
}

// kpis computes the parts of the report of q; the figures of the other
// parts stay zero.
func kpis(ctx context.Context, db *store.DB, q Query, parts kpiParts) (*Report, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	if q.Loc == nil {
		q.Loc = time.UTC
	}
	if _, err := db.RefreshFunnel(ctx); err != nil {
		return nil, err
	}
	u := newUnits(q.Period)
	r := u.kpiRange(q.GroupBy)
	acc := newAccumulators(q.GroupBy != "", u)
	reads := []struct {
		part kpiParts
		fn   func() error
	}{
		// Velocity takes its zeros from the cohort rows.
		{partCohorts | partVelocity, func() error { return readCohorts(ctx, db, r, u, parts, acc) }},
		{partVelocity | partFirstTouch, func() error { return readDurations(ctx, db, r, parts, acc) }},
		{partSLA, func() error { return readSLA(ctx, db, r, u, q.Now, acc) }},
		{partRecycles, func() error { return readRecycles(ctx, db, r, u, acc) }},
		{partWon, func() error {
			won, err := db.KPIWon(ctx, r)
			for _, w := range won {
				acc.each(w.Group, u.bucket(w.Unit), func(a *accumulator) {
					a.won[w.Currency] += w.Amount
					a.wonDeals += w.Deals
				})
			}
			return err
		}},
		{partScores, func() error {
			scores, err := db.KPIScores(ctx, r)
			for _, s := range scores {
				acc.each(s.Group, -1, func(a *accumulator) { a.scores[s.Bin] += s.N })
			}
			return err
		}},
	}
	for _, rd := range reads {
		if parts&rd.part != 0 {
			if err := rd.fn(); err != nil {
				return nil, err
			}
		}
	}

	rep := &Report{From: q.From, To: q.To, TZ: q.Loc.String(), Interval: q.Interval, GroupBy: q.GroupBy,
		AsOf: q.Now.UTC(), Buckets: q.Buckets(), Costs: []CampaignROI{}}
	rep.All = acc.group(allGroup, rep)
	rep.All.Group = "*"
	if acc.grouped {
		names := make([]string, 0, len(acc.groups))
		for g := range acc.groups {
			names = append(names, g)
		}
		slices.Sort(names)
		for _, g := range names {
			rep.Groups = append(rep.Groups, acc.group(g, rep))
		}
	}
	if parts&partCosts != 0 {
		var err error
		if rep.Costs, err = campaignROI(ctx, db, q, u); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func readCohorts(ctx context.Context, db *store.DB, r store.KPIRange, u *units, parts kpiParts, acc *accumulators) error {
	cohorts, err := db.KPICohorts(ctx, r)
	for _, c := range cohorts {
		i := stageIndex(c.Stage)
		if parts&partVelocity != 0 && c.Zero != 0 {
			acc.durs(c.Group, c.Unit).zeros[i] += c.Zero
		}
		if parts&partCohorts == 0 {
			continue
		}
		acc.each(c.Group, u.bucket(c.Unit), func(x *accumulator) {
			x.n[i] += c.N
			for j := range x.reached[i] {
				x.reached[i][j] += c.Reached[j]
			}
			if i == 0 {
				x.recycledC += c.Recycled
			}
		})
	}
	return err
}

// readDurations reads velocity and first touch (those of parts) into the
// fine accumulators.
func readDurations(ctx context.Context, db *store.DB, r store.KPIRange, parts kpiParts, acc *accumulators) error {
	var velocity, touch func(store.DurationRow)
	if parts&partVelocity != 0 {
		velocity = func(d store.DurationRow) {
			x := acc.durs(d.Group, d.Unit)
			i := stageIndex(d.Stage)
			x.dur[i] = append(x.dur[i], max(d.Micros, 0))
		}
	}
	if parts&partFirstTouch != 0 {
		touch = func(d store.DurationRow) {
			x := acc.durs(d.Group, d.Unit)
			if d.Valid {
				x.touch = append(x.touch, max(d.Micros, 0))
			} else {
				x.untouched++
			}
		}
	}
	return db.KPIDurations(ctx, r, velocity, touch, true)
}

func readSLA(ctx context.Context, db *store.DB, r store.KPIRange, u *units, now time.Time, acc *accumulators) error {
	slaRows, err := db.KPISLA(ctx, r, now)
	for _, s := range slaRows {
		acc.each(s.Group, u.bucket(s.Unit), func(x *accumulator) {
			p := x.sla[s.Policy]
			if p == nil {
				p = &PolicySLA{Policy: s.Policy}
				x.sla[s.Policy] = p
			}
			switch s.Status {
			case "met":
				p.Met += s.N
			case "breached":
				p.Breached += s.N
			case "running":
				x.slaRun += s.N
			default:
				x.slaCancel += s.N
			}
		})
	}
	return err
}

func readRecycles(ctx context.Context, db *store.DB, r store.KPIRange, u *units, acc *accumulators) error {
	recycles, err := db.KPIRecycles(ctx, r)
	for _, x := range recycles {
		rejection := x.Manual && slices.Contains([]string{"mql", "sal", "sql", "hql"}, x.From)
		acc.each(x.Group, u.bucket(x.Unit), func(a *accumulator) {
			if x.To == string(leadflow.StageDisqualified) {
				a.disq += x.N
			} else {
				a.recycled += x.N
			}
			if rejection {
				a.rejections[ReasonID(x.Reason)] += x.N
			}
		})
	}
	return err
}

// KPIRangeOf is the store's range of the reads of period p with the
// breakdown group (for benchmarks of the single reads).
func KPIRangeOf(p Period, group string) store.KPIRange { return newUnits(p).kpiRange(group) }

func (u *units) kpiRange(group string) store.KPIRange {
	return store.KPIRange{From: u.p.From, To: u.p.To, Offset: u.offset, Granularity: u.gran, Group: group,
		Cuts: append([]time.Time{}, u.starts...)}
}

// ReasonID is the reason id of a transition's reason text ("no-budget:
// call back in May" → "no-budget").
func ReasonID(reason string) string {
	id, _, _ := strings.Cut(reason, ":")
	id = strings.TrimSpace(id)
	if id == "" {
		return "(none)"
	}
	return id
}

func (a *accumulators) group(g string, rep *Report) GroupReport {
	gr := GroupReport{Group: g, Buckets: make([]Figures, len(rep.Buckets)), Scores: []ScoreBin{}}
	empty := &accumulator{}
	get := func(b int) *accumulator {
		if x := a.m[accKey{g, b}]; x != nil {
			return x
		}
		return empty
	}
	gr.Total = get(-1).figures("total", rep.From, rep.To, a.durations(g, -1))
	for i, b := range rep.Buckets {
		gr.Buckets[i] = get(i).figures(b.Label, b.From, b.To, a.durations(g, i))
	}
	for bin, n := range get(-1).scores {
		gr.Scores = append(gr.Scores, ScoreBin{From: bin * 10, Count: n})
	}
	slices.SortFunc(gr.Scores, func(x, y ScoreBin) int { return cmp.Compare(x.From, y.From) })
	return gr
}

func (x *accumulator) figures(label string, from, to time.Time, d *durs) Figures {
	f := Figures{Label: label, From: from, To: to, Untouched: d.untouched, Recycled: x.recycled,
		Disqualified: x.disq, RecycledLeads: x.recycledC, WonDeals: x.wonDeals,
		Rejections: []ReasonCount{}, Won: []Money{}}
	for i := range store.FunnelStages {
		*f.Counts.at(i) = x.n[i]
	}
	for _, p := range conversionPairs {
		from, to := p[0], p[1]
		c := Conversion{From: store.FunnelStages[from], To: store.FunnelStages[to],
			Cohort: x.n[from], Converted: x.reached[from][to]}
		c.CohortRate = rate(float64(c.Converted), float64(c.Cohort))
		c.PeriodRate = rate(float64(x.n[to]), float64(x.n[from]))
		f.Conversions = append(f.Conversions, c)
	}
	for i := 1; i < len(store.FunnelStages); i++ {
		f.Velocity = append(f.Velocity, Velocity{From: store.FunnelStages[i-1], To: store.FunnelStages[i],
			Durations: summarize(d.dur[i], d.zeros[i])})
	}
	f.FirstTouch = summarize(d.touch, 0)
	for _, p := range x.sla {
		f.SLA.Met += p.Met
		f.SLA.Breached += p.Breached
		q := *p
		q.Compliance = rate(float64(p.Met), float64(p.Met+p.Breached))
		f.SLA.Policies = append(f.SLA.Policies, q)
	}
	slices.SortFunc(f.SLA.Policies, func(a, b PolicySLA) int { return cmp.Compare(a.Policy, b.Policy) })
	f.SLA.Running, f.SLA.Canceled = x.slaRun, x.slaCancel
	f.SLA.Compliance = rate(float64(f.SLA.Met), float64(f.SLA.Met+f.SLA.Breached))
	for r, n := range x.rejections {
		f.Rejections = append(f.Rejections, ReasonCount{Reason: r, Count: n})
	}
	slices.SortFunc(f.Rejections, func(a, b ReasonCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	for c, amt := range x.won {
		f.Won = append(f.Won, Money{Currency: c, Amount: round(amt, 2)})
	}
	slices.SortFunc(f.Won, func(a, b Money) int { return cmp.Compare(a.Currency, b.Currency) })
	return f
}
