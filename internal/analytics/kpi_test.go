package analytics_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// tiny is the hand-computed data set of docs/kpis.md ("Worked example").
// All times UTC.
//
//	lead source  campaign team owner created     mql         sql         opp        won        other
//	L1   google  c1       A    alice 01-05 10:00 01-06 10:00 01-08 10:00 01-10 10:00 02-01 10:00 touch 01-06 12:00, deal 1,000,000 JPY
//	L2   google  c1       A    bob   01-10 00:00 01-10 06:00 rejected 01-12 (no-budget)            touch 01-10 10:00
//	L3   yahoo   c2       B    carol 02-03 00:00 02-04 00:00 02-05 00:00                           no touch
//	L4   yahoo   -        -    -     02-10 00:00 (stays a lead, score 15)
//	L5   partner -        A    alice 2025-12-20  01-02 00:00 (created before the period)          no touch
func tiny(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	type lead struct {
		l     leadflow.Lead
		steps []leadflow.Transition
	}
	tr := func(from, to leadflow.Stage, when, cause, reason string) leadflow.Transition {
		return leadflow.Transition{From: from, To: to, At: at(when), Cause: cause, Reason: reason}
	}
	ls := []*lead{
		{leadflow.Lead{Email: "l1@example.jp", Score: 80, Owner: "alice", Team: "A", CreatedAt: at("2026-01-05 10:00"),
			FirstTouch: leadflow.Attribution{Source: "google", Medium: "cpc", Campaign: "c1"}, Stage: leadflow.StageCustomer},
			[]leadflow.Transition{tr("lead", "mql", "2026-01-06 10:00", "rule:mql", ""), tr("mql", "sql", "2026-01-08 10:00", "user:alice", ""),
				tr("sql", "opportunity", "2026-01-10 10:00", "api:crm", ""), tr("opportunity", "customer", "2026-02-01 10:00", "api:crm", "")}},
		{leadflow.Lead{Email: "l2@example.jp", Score: 55, Owner: "bob", Team: "A", CreatedAt: at("2026-01-10 00:00"),
			FirstTouch: leadflow.Attribution{Source: "google", Medium: "cpc", Campaign: "c1"}, Stage: leadflow.StageRecycled},
			[]leadflow.Transition{tr("lead", "mql", "2026-01-10 06:00", "rule:mql", ""), tr("mql", "recycled", "2026-01-12 00:00", "user:bob", "no-budget: next year")}},
		{leadflow.Lead{Email: "l3@example.jp", Score: 62, Owner: "carol", Team: "B", CreatedAt: at("2026-02-03 00:00"),
			FirstTouch: leadflow.Attribution{Source: "yahoo", Medium: "organic", Campaign: "c2"}, Stage: leadflow.StageSQL},
			[]leadflow.Transition{tr("lead", "mql", "2026-02-04 00:00", "rule:mql", ""), tr("mql", "sql", "2026-02-05 00:00", "rule:sql", "")}},
		{leadflow.Lead{Email: "l4@example.jp", Score: 15, CreatedAt: at("2026-02-10 00:00"),
			FirstTouch: leadflow.Attribution{Source: "yahoo", Medium: "organic"}}, nil},
		{leadflow.Lead{Email: "l5@example.jp", Score: 51, Owner: "alice", Team: "A", CreatedAt: at("2025-12-20 00:00"),
			FirstTouch: leadflow.Attribution{Source: "partner", Medium: "referral"}, Stage: leadflow.StageMQL},
			[]leadflow.Transition{tr("lead", "mql", "2026-01-02 00:00", "rule:mql", "")}},
	}
	db.Now = func() time.Time { return at("2026-01-06 11:00") }
	var clocks []*store.SLAClock
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for _, x := range ls {
			if err := tx.CreateLead(ctx, &x.l); err != nil {
				return err
			}
			for _, s := range x.steps {
				s.LeadID = x.l.ID
				if err := tx.InsertTransition(ctx, &s); err != nil {
					return err
				}
			}
		}
		for _, tc := range []struct {
			lead       int
			when       string
			kind, text string
		}{{0, "2026-01-06 12:00", "call", ""}, {0, "2026-01-05 12:00", "email", "before the MQL: not a first touch"}, {1, "2026-01-10 10:00", "call", ""}} {
			if err := tx.InsertTouch(ctx, &store.Touch{LeadID: ls[tc.lead].l.ID, Actor: "user:x", Kind: tc.kind, Note: tc.text, At: at(tc.when)}); err != nil {
				return err
			}
		}
		for _, c := range []struct {
			lead          int
			start, due    string
			owner, policy string
		}{{0, "2026-01-06 10:00", "2026-01-08 10:00", "alice", "mql-accept"}, {1, "2026-01-10 06:00", "2026-01-10 07:00", "bob", "mql-accept"},
			{2, "2026-02-04 00:00", "2026-02-05 00:00", "carol", "sql-touch"}} {
			ck := &store.SLAClock{LeadID: ls[c.lead].l.ID, Stage: leadflow.StageMQL, Policy: c.policy, Owner: c.owner, StartedAt: at(c.start), DueAt: at(c.due)}
			if err := tx.StartClock(ctx, ck); err != nil {
				return err
			}
			clocks = append(clocks, ck)
		}
		if _, err := tx.StopClock(ctx, clocks[0].ID, "user:alice"); err != nil { // met: now is before the deadline
			return err
		}
		if _, err := tx.MarkClockBreached(ctx, clocks[1].ID); err != nil {
			return err
		}
		if _, err := tx.UpsertDeal(ctx, &store.Deal{LeadID: ls[0].l.ID, ExternalID: "d1", Status: store.DealWon, Amount: 1_000_000, At: at("2026-02-01 10:00")}); err != nil {
			return err
		}
		return tx.UpsertCampaignCosts(ctx, []store.CampaignCost{
			{Campaign: "c1", Month: "2026-01", Amount: 100_000}, {Campaign: "c1", Month: "2026-02", Amount: 50_000},
			{Campaign: "c2", Month: "2026-02", Amount: 30_000, Currency: "jpy"}, {Campaign: "c3", Month: "2025-11", Amount: 9}}, "test")
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Now = time.Now
}

func f(x float64) *float64 { return &x }

func eqp(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	d := *a - *b
	return d < 1e-3 && d > -1e-3
}

func show(p *float64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

// TestKPIDefinitions pins every KPI of docs/kpis.md on the tiny data set.
func TestKPIDefinitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		tiny(t, db)
		ctx := context.Background()
		now := at("2026-03-01 00:00")
		p, err := analytics.ParsePeriod("2026-01-01", "2026-02-28", "UTC", "month", now)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		tot, jan, feb := rep.All.Total, rep.All.Buckets[0], rep.All.Buckets[1]
		if len(rep.All.Buckets) != 2 || jan.Label != "2026-01" || feb.Label != "2026-02" {
			t.Fatalf("buckets: %+v", rep.Buckets)
		}
		checkCounts := func(name string, got analytics.Counts, want analytics.Counts) {
			t.Helper()
			if got != want {
				t.Errorf("%s counts = %+v, want %+v", name, got, want)
			}
		}
		checkCounts("total", tot.Counts, analytics.Counts{Leads: 4, MQLs: 4, SALs: 2, SQLs: 2, HQLs: 1, Opportunities: 1, Customers: 1})
		checkCounts("jan", jan.Counts, analytics.Counts{Leads: 2, MQLs: 3, SALs: 1, SQLs: 1, HQLs: 1, Opportunities: 1})
		checkCounts("feb", feb.Counts, analytics.Counts{Leads: 2, MQLs: 1, SALs: 1, SQLs: 1, Customers: 1})

		conv := func(fs analytics.Figures, from, to string) analytics.Conversion {
			for _, c := range fs.Conversions {
				if c.From == from && c.To == to {
					return c
				}
			}
			t.Fatalf("no conversion %s→%s", from, to)
			return analytics.Conversion{}
		}
		for _, c := range []struct {
			fs                 analytics.Figures
			from, to           string
			cohort, converted  int64
			cohortRate, period *float64
		}{
			{tot, "mql", "sql", 4, 2, f(0.5), f(0.5)},
			{jan, "mql", "sql", 3, 1, f(0.3333), f(0.3333)},
			{feb, "mql", "sql", 1, 1, f(1), f(1)},
			{tot, "lead", "customer", 4, 1, f(0.25), f(0.25)},
			{jan, "lead", "customer", 2, 1, f(0.5), nil},
			{tot, "sql", "opportunity", 2, 1, f(0.5), f(0.5)},
			{tot, "opportunity", "customer", 1, 1, f(1), f(1)},
		} {
			got := conv(c.fs, c.from, c.to)
			if got.Cohort != c.cohort || got.Converted != c.converted || !eqp(got.CohortRate, c.cohortRate) {
				t.Errorf("%s %s→%s cohort = %d/%d (%v), want %d/%d (%v)", c.fs.Label, c.from, c.to, got.Converted, got.Cohort,
					show(got.CohortRate), c.converted, c.cohort, show(c.cohortRate))
			}
			if c.period != nil && !eqp(got.PeriodRate, c.period) {
				t.Errorf("%s %s→%s period rate = %v, want %v", c.fs.Label, c.from, c.to, show(got.PeriodRate), show(c.period))
			}
		}

		vel := func(fs analytics.Figures, to string) analytics.Velocity {
			for _, v := range fs.Velocity {
				if v.To == to {
					return v
				}
			}
			return analytics.Velocity{}
		}
		for _, v := range []struct {
			to          string
			n           int
			median, p90 *float64
		}{
			{"mql", 4, f(24), f(225.6)}, // 6, 24, 24, 312 hours
			{"sal", 2, f(36), f(45.6)},  // 24, 48 (SAL reached with SQL)
			{"sql", 2, f(0), f(0)},      // reached SAL and SQL together
			{"hql", 1, f(48), f(48)},    // HQL reached with the opportunity
			{"opportunity", 1, f(0), f(0)},
			{"customer", 1, f(528), f(528)}, // 22 days
		} {
			got := vel(tot, v.to)
			if got.N != v.n || !eqp(got.MedianHours, v.median) || !eqp(got.P90Hours, v.p90) {
				t.Errorf("velocity →%s = n %d median %v p90 %v, want n %d median %v p90 %v", v.to, got.N,
					show(got.MedianHours), show(got.P90Hours), v.n, show(v.median), show(v.p90))
			}
		}
		if ft := tot.FirstTouch; ft.N != 2 || !eqp(ft.MedianHours, f(3)) || tot.Untouched != 2 {
			t.Errorf("first touch = %+v (median %v), untouched %d; want 2 touched, median 3h, 2 untouched", ft, show(ft.MedianHours), tot.Untouched)
		}
		if s := tot.SLA; s.Met != 1 || s.Breached != 2 || !eqp(s.Compliance, f(0.3333)) {
			t.Errorf("SLA = %+v, want met 1, breached 2 (one running past due), compliance 0.3333", s)
		}
		if tot.Recycled != 1 || len(tot.Rejections) != 1 || tot.Rejections[0] != (analytics.ReasonCount{Reason: "no-budget", Count: 1}) || jan.RecycledLeads != 1 {
			t.Errorf("recycled %d, rejections %+v, recycled leads (jan) %d", tot.Recycled, tot.Rejections, jan.RecycledLeads)
		}
		if len(feb.Won) != 1 || feb.Won[0] != (analytics.Money{Currency: "JPY", Amount: 1_000_000}) || feb.WonDeals != 1 || len(jan.Won) != 0 {
			t.Errorf("won: jan %+v, feb %+v", jan.Won, feb.Won)
		}
		wantBins := []analytics.ScoreBin{{From: 10, Count: 1}, {From: 50, Count: 1}, {From: 60, Count: 1}, {From: 80, Count: 1}}
		if !equalBins(rep.All.Scores, wantBins) {
			t.Errorf("scores = %+v, want %+v", rep.All.Scores, wantBins)
		}
		if len(rep.Costs) != 2 {
			t.Fatalf("costs = %+v", rep.Costs)
		}
		c1, c2 := rep.Costs[0], rep.Costs[1]
		if c1.Campaign != "c1" || c1.Cost != 150_000 || c1.Leads != 2 || c1.MQLs != 2 || c1.SQLs != 1 || c1.Customers != 1 ||
			!eqp(c1.PerLead, f(75_000)) || !eqp(c1.PerMQL, f(75_000)) || !eqp(c1.PerSQL, f(150_000)) || !eqp(c1.PerCust, f(150_000)) ||
			c1.WonAmount != 1_000_000 || !eqp(c1.ROI, f(6.6667)) {
			t.Errorf("c1 = %+v", c1)
		}
		if c2.Campaign != "c2" || c2.Currency != "JPY" || c2.Cost != 30_000 || c2.PerCust != nil || !eqp(c2.ROI, f(0)) {
			t.Errorf("c2 = %+v", c2)
		}

		// Breakdowns.
		bySource, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "source", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, g := range bySource.Groups {
			got[g.Group] = g.Total.Counts.MQLs
		}
		if len(got) != 3 || got["google"] != 2 || got["yahoo"] != 1 || got["partner"] != 1 {
			t.Errorf("MQLs by source = %v", got)
		}
		byTeam, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "team", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range byTeam.Groups {
			want := map[string]*float64{"A": f(0.5), "B": f(0)}[g.Group]
			if (g.Group == "A" || g.Group == "B") && !eqp(g.Total.SLA.Compliance, want) {
				t.Errorf("team %s SLA compliance = %v, want %v", g.Group, show(g.Total.SLA.Compliance), show(want))
			}
		}
		byMedium, err := analytics.KPIs(ctx, db, analytics.Query{Period: p, GroupBy: "medium", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if len(byMedium.Groups) != 3 || byMedium.Groups[0].Group != "cpc" || byMedium.Groups[0].Total.Counts.Leads != 2 {
			t.Errorf("by medium: %+v", byMedium.Groups)
		}
		// Weeks in Tokyo: L1 (Monday 2026-01-05 19:00 JST) and L2 (Saturday
		// 01-10 09:00 JST) are both created in ISO week 2.
		wp, _ := analytics.ParsePeriod("2026-01-01", "2026-01-31", "Asia/Tokyo", "week", now)
		weeks, err := analytics.KPIs(ctx, db, analytics.Query{Period: wp, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if b := weeks.All.Buckets[1]; b.Label != "2026-W02" || b.Counts.Leads != 2 || b.Counts.MQLs != 2 {
			t.Errorf("week 2 (JST) = %s %+v", b.Label, b.Counts)
		}

		var buf bytes.Buffer
		if err := analytics.WriteKPICSV(&buf, rep); err != nil {
			t.Fatal(err)
		}
		if lines := strings.Count(buf.String(), "\n"); lines != 4 || !strings.HasPrefix(buf.String(), "group,bucket,from,to,leads,mqls") {
			t.Errorf("csv has %d lines:\n%s", lines, buf.String())
		}

		// Targets: February half gone, 1 MQL of 4.
		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.SetTargets(ctx, []store.Target{{Month: "2026-02", Metric: "mqls", Value: 4}, {Month: "2026-02", Metric: "won_amount", Value: 500_000}}, nil, "test")
		})
		if err != nil {
			t.Fatal(err)
		}
		prog, err := analytics.Progress(ctx, db, p, at("2026-02-15 00:00"))
		if err != nil {
			t.Fatal(err)
		}
		if len(prog) != 2 || prog[0].Metric != "mqls" || prog[0].Actual != 1 || !eqp(prog[0].Progress, f(0.25)) ||
			prog[0].Elapsed != 0.5 || !eqp(prog[0].Forecast, f(2)) || !eqp(prog[1].Progress, f(2)) {
			t.Errorf("progress = %+v", prog)
		}
		rv, err := analytics.ReviewReport(ctx, db, p, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rv.Funnel.MQLs != 4 || rv.PrevFunnel.Leads != 1 || !rv.PrevFrom.Equal(at("2025-11-01 00:00")) || len(rv.SLAByTeam) != 2 ||
			len(rv.TopRejections) != 1 || len(rv.Targets) != 2 {
			t.Errorf("review = %+v", rv)
		}
	})
}

func equalBins(a, b []analytics.ScoreBin) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadInput(t *testing.T) {
	now := at("2026-03-01 00:00")
	for _, c := range []struct{ from, to, tz, interval, want string }{
		{"2026-02-01", "2026-01-01", "", "", "must end after it starts"},
		{"2026-13-01", "", "", "", "neither a date"},
		{"", "", "Mars/Olympus", "", "unknown time zone"},
		{"", "", "", "day", "unknown interval"},
	} {
		_, err := analytics.ParsePeriod(c.from, c.to, c.tz, c.interval, now)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParsePeriod(%q, %q, %q, %q) = %v, want %q", c.from, c.to, c.tz, c.interval, err, c.want)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"10:150", "three parts"}, {"10:5:5", "step must be positive"}, {"a,b", "not a number"}, {"0:100000:1", "more than 1,000"},
	} {
		if _, err := analytics.ParseThresholds(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseThresholds(%q) = %v, want %q", c.in, err, c.want)
		}
	}
	if ts, err := analytics.ParseThresholds("10:20:5"); err != nil || len(ts) != 3 || ts[2] != 20 {
		t.Errorf("10:20:5 = %v, %v", ts, err)
	}
	for _, c := range []struct{ csv, want string }{
		{"", "empty"},
		{"campaign,amount\nx,1\n", `missing column "month"`},
		{"campaign,month,amount\nx,2026-1,1\ny,2026-01,abc\n", "2 rows are invalid"},
		{"campaign,month,amount,currency\nx,2026-01,1,yenn\n", "currency"},
	} {
		if _, err := analytics.ReadCostsCSV(strings.NewReader(c.csv)); err == nil || !strings.Contains(err.Error()+detailText(err), c.want) {
			t.Errorf("ReadCostsCSV(%q) = %v, want %q", c.csv, err, c.want)
		}
	}
	costs, err := analytics.ReadCostsCSV(strings.NewReader("\ufeffCampaign,Month,Amount\nc1,2026-04,\"1,200,000\"\n"))
	if err != nil || len(costs) != 1 || costs[0].Amount != 1_200_000 || costs[0].Currency != "JPY" {
		t.Errorf("costs = %+v, %v", costs, err)
	}
	if q, ok := analytics.Quantile([]int64{1, 2, 3, 4}, 0.5); !ok || q != 2.5 {
		t.Errorf("median of 1..4 = %v", q)
	}
}

func detailText(err error) string {
	var b strings.Builder
	if e, ok := err.(*leadflow.Error); ok {
		for _, d := range e.Details {
			b.WriteString(d.Where + " " + d.Message + "; ")
		}
	}
	return b.String()
}
