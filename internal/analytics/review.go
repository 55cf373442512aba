package analytics

import (
	"context"
	"slices"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// TargetProgress is one monthly target against what happened.
type TargetProgress struct {
	Month  string  `json:"month"`
	Metric string  `json:"metric"`
	Target float64 `json:"target"`
	Actual float64 `json:"actual"`
	// Progress is Actual / Target.
	Progress *float64 `json:"progress"`
	// Elapsed is the share of the month gone by at AsOf (0 … 1).
	Elapsed float64 `json:"elapsed"`
	// Forecast is the month's total at the current pace: Actual / Elapsed
	// while the month runs, Actual once it is over, nil before it starts.
	Forecast         *float64 `json:"forecast"`
	ForecastProgress *float64 `json:"forecast_progress"`
}

// Progress compares the targets of the period's months with the actuals:
// leads created, MQLs, SQLs, opportunities and customers reached (as in
// Counts) and the won amount (all currencies summed: set targets in the
// currency deals are won in).
func Progress(ctx context.Context, db *store.DB, p Period, now time.Time) ([]TargetProgress, error) {
	months := p.Months()
	out := []TargetProgress{}
	if len(months) == 0 {
		return out, nil
	}
	targets, err := db.Targets(ctx, months[0], months[len(months)-1])
	if err != nil || len(targets) == 0 {
		return out, err
	}
	first, _, _ := MonthSpan(months[0], p.Loc)
	_, last, _ := MonthSpan(months[len(months)-1], p.Loc)
	mp := Period{From: first, To: last, Loc: p.Loc, Interval: Month}
	// Targets are counts and the won amount.
	rep, err := kpis(ctx, db, Query{Period: mp, Now: now}, partCohorts|partWon)
	if err != nil {
		return nil, err
	}
	byMonth := map[string]Figures{}
	for _, f := range rep.All.Buckets {
		byMonth[f.Label] = f
	}
	for _, t := range targets {
		f := byMonth[t.Month]
		var actual float64
		switch t.Metric {
		case "leads":
			actual = float64(f.Counts.Leads)
		case "mqls":
			actual = float64(f.Counts.MQLs)
		case "sqls":
			actual = float64(f.Counts.SQLs)
		case "opportunities":
			actual = float64(f.Counts.Opportunities)
		case "customers":
			actual = float64(f.Counts.Customers)
		case "won_amount":
			for _, m := range f.Won {
				actual += m.Amount
			}
		}
		tp := TargetProgress{Month: t.Month, Metric: t.Metric, Target: t.Value, Actual: actual,
			Progress: rate(actual, t.Value)}
		ms, me, _ := MonthSpan(t.Month, p.Loc)
		switch {
		case !now.After(ms):
			tp.Elapsed = 0
		case now.Before(me):
			tp.Elapsed = round(float64(now.Sub(ms))/float64(me.Sub(ms)), 4)
			tp.Forecast = ptr(round(actual/(float64(now.Sub(ms))/float64(me.Sub(ms))), 2))
		default:
			tp.Elapsed = 1
			tp.Forecast = ptr(actual)
		}
		if tp.Forecast != nil {
			tp.ForecastProgress = rate(*tp.Forecast, t.Value)
		}
		out = append(out, tp)
	}
	return out, nil
}

// Review is the report for the regular marketing–sales meeting.
type Review struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	PrevFrom time.Time `json:"previous_from"`
	PrevTo   time.Time `json:"previous_to"`
	TZ       string    `json:"tz"`
	AsOf     time.Time `json:"as_of"`
	// Targets: the funnel of each month of the period against its targets.
	Targets []TargetProgress `json:"targets"`
	// Funnel: counts of this period and the previous one.
	Funnel     Counts   `json:"funnel"`
	PrevFunnel Counts   `json:"previous_funnel"`
	Conversion []Change `json:"conversion" doc:"Cohort conversion rates, this period against the previous"`
	Velocity   []Change `json:"velocity" doc:"Median hours from stage to stage, this period against the previous"`
	FirstTouch Change   `json:"first_touch" doc:"Median hours from MQL to the first touch"`
	SLA        Change   `json:"sla" doc:"SLA compliance"`
	SLAByTeam  []Row    `json:"sla_by_team"`
	SLAByRep   []Row    `json:"sla_by_rep"`
	// TopRejections are the ten most frequent rejection reasons.
	TopRejections []ReasonCount `json:"top_rejections"`
	// Backtest replays the active model over the period (nil when not asked).
	Backtest *BacktestSummary `json:"backtest,omitempty"`
}

// Change is one figure now and in the previous period.
type Change struct {
	Name     string   `json:"name"`
	Current  *float64 `json:"current"`
	Previous *float64 `json:"previous"`
	Delta    *float64 `json:"delta" doc:"current − previous"`
}

// Row is one team's or rep's SLA figures.
type Row struct {
	Name       string   `json:"name"`
	Met        int64    `json:"met"`
	Breached   int64    `json:"breached"`
	Compliance *float64 `json:"compliance"`
}

// BacktestSummary is what the active model's threshold did in the period
// and what the backtest would recommend.
type BacktestSummary struct {
	Model     string        `json:"model"`
	Version   int           `json:"version"`
	Threshold *ThresholdRow `json:"at_threshold,omitempty"`
	MaxF      *Pick         `json:"max_f,omitempty"`
}

func change(name string, cur, prev *float64) Change {
	c := Change{Name: name, Current: cur, Previous: prev}
	if cur != nil && prev != nil {
		c.Delta = ptr(round(*cur-*prev, 4))
	}
	return c
}

// ReviewReport builds the review of period p (and the one before it).
// With active set, it also replays the active model over the period.
func ReviewReport(ctx context.Context, db *store.DB, p Period, now time.Time, active *BacktestModel) (*Review, error) {
	prev := p.Previous()
	// The review shows counts, conversion, velocity, first touch, SLA and
	// rejections: the other reads of a KPI report are left out.
	const parts = partCohorts | partVelocity | partFirstTouch | partSLA | partRecycles
	cur, err := kpis(ctx, db, Query{Period: p, Now: now}, parts)
	if err != nil {
		return nil, err
	}
	old, err := kpis(ctx, db, Query{Period: prev, Now: now}, parts)
	if err != nil {
		return nil, err
	}
	rv := &Review{From: p.From, To: p.To, PrevFrom: prev.From, PrevTo: prev.To, TZ: p.Loc.String(), AsOf: now.UTC(),
		Funnel: cur.All.Total.Counts, PrevFunnel: old.All.Total.Counts}
	if rv.Targets, err = Progress(ctx, db, p, now); err != nil {
		return nil, err
	}
	c, o := cur.All.Total, old.All.Total
	for i, x := range c.Conversions {
		rv.Conversion = append(rv.Conversion, change(x.From+"→"+x.To, x.CohortRate, o.Conversions[i].CohortRate))
	}
	for i, x := range c.Velocity {
		rv.Velocity = append(rv.Velocity, change(x.From+"→"+x.To, x.MedianHours, o.Velocity[i].MedianHours))
	}
	rv.FirstTouch = change("first_touch", c.FirstTouch.MedianHours, o.FirstTouch.MedianHours)
	rv.SLA = change("sla_compliance", c.SLA.Compliance, o.SLA.Compliance)
	for _, g := range []string{"team", "owner"} {
		rep, err := kpis(ctx, db, Query{Period: p, GroupBy: g, Now: now}, partSLA)
		if err != nil {
			return nil, err
		}
		rows := []Row{}
		for _, gr := range rep.Groups {
			s := gr.Total.SLA
			if s.Met+s.Breached == 0 {
				continue
			}
			rows = append(rows, Row{Name: gr.Group, Met: s.Met, Breached: s.Breached, Compliance: s.Compliance})
		}
		if g == "team" {
			rv.SLAByTeam = rows
		} else {
			rv.SLAByRep = rows
		}
	}
	rv.TopRejections = c.Rejections[:min(10, len(c.Rejections))]
	if active != nil && active.Model != nil {
		own, hasOwn := active.Model.Thresholds()[leadflow.StageMQL]
		ts, _ := ParseThresholds("")
		if hasOwn {
			ts = levelsOf(ts, []float64{own})
		}
		res, err := Backtest(ctx, db, *active, nil, BacktestOptions{From: p.From, To: p.To, Loc: p.Loc, Thresholds: ts})
		if err != nil {
			return nil, err
		}
		sum := &BacktestSummary{Model: active.Name, Version: active.Version, MaxF: res.Recommend.MaxF}
		if hasOwn {
			i := slices.IndexFunc(res.Draft.Rows, func(r ThresholdRow) bool { return r.Threshold == own })
			if i >= 0 {
				sum.Threshold = &res.Draft.Rows[i]
			}
		}
		rv.Backtest = sum
	}
	return rv, nil
}
