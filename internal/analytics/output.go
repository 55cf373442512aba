package analytics

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

func num(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func inum(n int64) string { return strconv.FormatInt(n, 10) }

// WriteKPICSV writes a report as one row per group and bucket (the
// period's total first, labelled "total"), with a header row.
func WriteKPICSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	head := []string{"group", "bucket", "from", "to", "leads", "mqls", "sals", "sqls", "hqls", "opportunities", "customers"}
	for _, p := range conversionPairs {
		n := store.FunnelStages[p[0]] + "_to_" + store.FunnelStages[p[1]]
		head = append(head, n+"_cohort", n+"_converted", n+"_cohort_rate", n+"_period_rate")
	}
	for i := 1; i < len(store.FunnelStages); i++ {
		n := store.FunnelStages[i-1] + "_to_" + store.FunnelStages[i]
		head = append(head, n+"_median_hours", n+"_p90_hours")
	}
	head = append(head, "first_touch_median_hours", "first_touch_p90_hours", "untouched",
		"sla_met", "sla_breached", "sla_running", "sla_compliance", "recycled", "disqualified", "rejections",
		"recycled_leads", "won_deals", "won_amount")
	if err := cw.Write(head); err != nil {
		return err
	}
	groups := []GroupReport{rep.All}
	groups = append(groups, rep.Groups...)
	for _, g := range groups {
		for _, f := range append([]Figures{g.Total}, g.Buckets...) {
			c := f.Counts
			row := []string{g.Group, f.Label, f.From.Format("2006-01-02T15:04:05Z07:00"), f.To.Format("2006-01-02T15:04:05Z07:00"),
				inum(c.Leads), inum(c.MQLs), inum(c.SALs), inum(c.SQLs), inum(c.HQLs), inum(c.Opportunities), inum(c.Customers)}
			for _, cv := range f.Conversions {
				row = append(row, inum(cv.Cohort), inum(cv.Converted), num(cv.CohortRate), num(cv.PeriodRate))
			}
			for _, v := range f.Velocity {
				row = append(row, num(v.MedianHours), num(v.P90Hours))
			}
			var rej int64
			for _, r := range f.Rejections {
				rej += r.Count
			}
			var won []string
			for _, m := range f.Won {
				won = append(won, fnum(m.Amount)+" "+m.Currency)
			}
			row = append(row, num(f.FirstTouch.MedianHours), num(f.FirstTouch.P90Hours), inum(f.Untouched),
				inum(f.SLA.Met), inum(f.SLA.Breached), inum(f.SLA.Running), num(f.SLA.Compliance),
				inum(f.Recycled), inum(f.Disqualified), inum(rej), inum(f.RecycledLeads), inum(f.WonDeals), strings.Join(won, "; "))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteBacktestCSV writes one row per model and threshold.
func WriteBacktestCSV(w io.Writer, res *BacktestResult) error {
	cw := csv.NewWriter(w)
	head := []string{"model", "version", "threshold", "mqls", "mqls_per_month"}
	for _, m := range res.Months {
		head = append(head, "mqls_"+m)
	}
	head = append(head, "became_sql", "became_customer", "precision_sql", "precision_customer",
		"caught_sql", "recall_sql", "caught_won", "recall_won", "f", "median_mql_to_sql_hours")
	if err := cw.Write(head); err != nil {
		return err
	}
	sweeps := []ModelSweep{res.Draft}
	if res.Active != nil {
		sweeps = append(sweeps, *res.Active)
	}
	for _, s := range sweeps {
		for _, r := range s.Rows {
			row := []string{s.Name, strconv.Itoa(s.Version), fnum(r.Threshold), inum(r.MQLs), fnum(r.PerMonth)}
			for _, n := range r.ByMonth {
				row = append(row, inum(n))
			}
			row = append(row, inum(r.BecameSQL), inum(r.BecameCustomer), num(r.PrecisionSQL), num(r.PrecisionCustomer),
				inum(r.CaughtSQL), num(r.RecallSQL), inum(r.CaughtWon), num(r.RecallWon), num(r.F), num(r.MedianMQLToSQLHours))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func pct(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *f*100)
}

// WriteBacktestTable prints the sweep for a terminal: draft and active side
// by side, then the recommendations and the changes.
func WriteBacktestTable(w io.Writer, res *BacktestResult) error {
	fmt.Fprintf(w, "Backtest %s … %s (%s): %d leads created, %d events replayed, %d reached SQL, %d won; %.2f months\n\n",
		res.From.Format("2006-01-02"), res.To.Format("2006-01-02"), res.TZ, res.Leads, res.Events, res.SQLs, res.Won, res.MonthLen)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "threshold\tMQL/month\t→SQL\t→customer\trecall won\trecall SQL\tF%g (%s)\tMQL→SQL h\t", res.Beta, res.Outcome)
	if res.Active != nil {
		fmt.Fprintf(tw, "│ active MQL/month\t→customer\trecall won\t")
	}
	fmt.Fprintln(tw)
	for i, r := range res.Draft.Rows {
		mark := ""
		if rec := res.Recommend; rec.MaxF != nil && rec.MaxF.Threshold == r.Threshold {
			mark += " F"
		}
		if rec := res.Recommend; rec.Capacity != nil && rec.Capacity.Threshold == r.Threshold {
			mark += " C"
		}
		fmt.Fprintf(tw, "%s%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t", mark, fnum(r.Threshold), r.PerMonth, pct(r.PrecisionSQL), pct(r.PrecisionCustomer),
			pct(r.RecallWon), pct(r.RecallSQL), num(r.F), num(r.MedianMQLToSQLHours))
		if res.Active != nil {
			a := res.Active.Rows[i]
			fmt.Fprintf(tw, "│ %.1f\t%s\t%s\t", a.PerMonth, pct(a.PrecisionCustomer), pct(a.RecallWon))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if p := res.Recommend.Capacity; p != nil {
		fmt.Fprintf(w, "C  capacity %g MQLs/month: threshold %s (%.1f MQLs/month, precision %s, recall %s): %s\n",
			res.Capacity, fnum(p.Threshold), p.PerMonth, pct(p.Precision), pct(p.Recall), p.Note)
	}
	if p := res.Recommend.MaxF; p != nil {
		fmt.Fprintf(w, "F  max F%g: threshold %s (%.1f MQLs/month, precision %s, recall %s, F %s)\n",
			res.Beta, fnum(p.Threshold), p.PerMonth, pct(p.Precision), pct(p.Recall), num(p.F))
	}
	if c := res.Changes; c != nil {
		fmt.Fprintf(w, "\nAgainst the active model (draft at %s, active at %s): %d leads move in (%d SQL, %d won), %d move out (%d SQL, %d won)\n",
			fnum(c.DraftThreshold), fnum(c.ActiveThreshold), c.InCount, c.InSQL, c.InWon, c.OutCount, c.OutSQL, c.OutWon)
		for _, side := range []struct {
			name string
			ms   []Move
		}{{"in ", c.In}, {"out", c.Out}} {
			for _, m := range side.ms[:min(10, len(side.ms))] {
				fmt.Fprintf(w, "  %s  lead %d %s  draft peak %s, active peak %s%s%s\n", side.name, m.LeadID, m.Email,
					fnum(m.DraftPeak), fnum(m.ActivePeak), map[bool]string{true: ", SQL"}[m.SQL], map[bool]string{true: ", won"}[m.Won])
			}
		}
	}
	return nil
}

// WriteReviewCSV writes the review as section,name,metric,value rows.
func WriteReviewCSV(w io.Writer, rv *Review) error {
	cw := csv.NewWriter(w)
	put := func(s ...string) { _ = cw.Write(s) }
	put("section", "name", "metric", "value")
	for _, t := range rv.Targets {
		put("targets", t.Month+" "+t.Metric, "target", fnum(t.Target))
		put("targets", t.Month+" "+t.Metric, "actual", fnum(t.Actual))
		put("targets", t.Month+" "+t.Metric, "progress", num(t.Progress))
		put("targets", t.Month+" "+t.Metric, "forecast", num(t.Forecast))
	}
	for i, n := range []string{"leads", "mqls", "sals", "sqls", "hqls", "opportunities", "customers"} {
		put("funnel", n, "current", inum(*rv.Funnel.at(i)))
		put("funnel", n, "previous", inum(*rv.PrevFunnel.at(i)))
	}
	for _, sec := range []struct {
		name string
		cs   []Change
	}{{"conversion", rv.Conversion}, {"velocity_median_hours", rv.Velocity}, {"first_touch_median_hours", []Change{rv.FirstTouch}}, {"sla", []Change{rv.SLA}}} {
		for _, c := range sec.cs {
			put(sec.name, c.Name, "current", num(c.Current))
			put(sec.name, c.Name, "previous", num(c.Previous))
			put(sec.name, c.Name, "delta", num(c.Delta))
		}
	}
	for _, sec := range []struct {
		name string
		rows []Row
	}{{"sla_by_team", rv.SLAByTeam}, {"sla_by_rep", rv.SLAByRep}} {
		for _, r := range sec.rows {
			put(sec.name, r.Name, "met", inum(r.Met))
			put(sec.name, r.Name, "breached", inum(r.Breached))
			put(sec.name, r.Name, "compliance", num(r.Compliance))
		}
	}
	for _, r := range rv.TopRejections {
		put("rejections", r.Reason, "count", inum(r.Count))
	}
	if b := rv.Backtest; b != nil {
		if t := b.Threshold; t != nil {
			put("backtest", b.Model, "threshold", fnum(t.Threshold))
			put("backtest", b.Model, "mqls_per_month", fnum(t.PerMonth))
			put("backtest", b.Model, "precision_customer", num(t.PrecisionCustomer))
			put("backtest", b.Model, "recall_won", num(t.RecallWon))
		}
		if f := b.MaxF; f != nil {
			put("backtest", b.Model, "max_f_threshold", fnum(f.Threshold))
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCostsCSV reads campaign costs from CSV with a header row naming the
// columns campaign, month (YYYY-MM), amount and optionally currency
// (default JPY), in any order. Amounts may carry thousands separators.
// Every problem is reported with its line.
func ReadCostsCSV(r io.Reader) ([]store.CampaignCost, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, leadflow.Invalidf("line 1", "the file is empty; give a header: campaign,month,amount,currency")
	} else if err != nil {
		return nil, leadflow.Invalidf("line 1", "not CSV: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		col[h] = i
	}
	for _, need := range []string{"campaign", "month", "amount"} {
		if _, ok := col[need]; !ok {
			return nil, leadflow.Invalidf("line 1", "missing column %q (the header must name campaign, month, amount and optionally currency)", need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []store.CampaignCost
	var details []leadflow.Detail
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		where := fmt.Sprintf("line %d", line)
		if err != nil {
			return nil, leadflow.Invalidf(where, "not CSV: %v", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		c := store.CampaignCost{Campaign: get(rec, "campaign"), Month: get(rec, "month"), Currency: get(rec, "currency")}
		amt, err := strconv.ParseFloat(strings.ReplaceAll(get(rec, "amount"), ",", ""), 64)
		if err != nil {
			details = append(details, leadflow.Detail{Where: where + ": amount", Message: fmt.Sprintf("%q is not a number", get(rec, "amount"))})
			continue
		}
		c.Amount = amt
		if err := c.Check(""); err != nil {
			details = append(details, leadflow.Detail{Where: where + ": " + err.(*leadflow.Error).Where, Message: err.(*leadflow.Error).Message})
			continue
		}
		out = append(out, c)
	}
	if len(details) > 0 {
		return nil, &leadflow.Error{Code: leadflow.EINVALID, Message: fmt.Sprintf("%d rows are invalid; nothing was stored", len(details)), Details: details}
	}
	if len(out) == 0 {
		return nil, leadflow.Invalidf("line 2", "no cost rows")
	}
	return out, nil
}
