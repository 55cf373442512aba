package analytics

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/leadflow/leadflow/internal/store"
)

// CampaignROI is what one campaign cost in a period and what it brought.
// Costs are entered per calendar month; a month only partly inside the
// period counts in proportion to its overlap (by time, in the report's
// zone). Counts are by the lead's first-touch campaign, as in Counts; the
// won amount is that of deals won in the period in the cost's currency.
type CampaignROI struct {
	Campaign  string   `json:"campaign"`
	Currency  string   `json:"currency"`
	Cost      float64  `json:"cost"`
	Leads     int64    `json:"leads"`
	MQLs      int64    `json:"mqls"`
	SQLs      int64    `json:"sqls"`
	Customers int64    `json:"customers"`
	WonDeals  int64    `json:"won_deals"`
	WonAmount float64  `json:"won_amount"`
	PerLead   *float64 `json:"cost_per_lead"`
	PerMQL    *float64 `json:"cost_per_mql"`
	PerSQL    *float64 `json:"cost_per_sql"`
	PerCust   *float64 `json:"cost_per_customer"`
	// ROI is won amount ÷ cost (1.0: the campaign paid for itself).
	ROI *float64 `json:"roi"`
}

// wholePeriod makes every row of a KPI read fall in one unit.
const wholePeriod = int64(1) << 62

// MonthSpan returns the instants [start, end) of a YYYY-MM month in loc.
func MonthSpan(month string, loc *time.Location) (time.Time, time.Time, error) {
	t, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return t.UTC(), t.AddDate(0, 1, 0).UTC(), nil
}

func overlap(a0, a1, b0, b1 time.Time) time.Duration {
	lo, hi := a0, a1
	if b0.After(lo) {
		lo = b0
	}
	if b1.Before(hi) {
		hi = b1
	}
	if !hi.After(lo) {
		return 0
	}
	return hi.Sub(lo)
}

func campaignROI(ctx context.Context, db *store.DB, q Query, _ *units) ([]CampaignROI, error) {
	months := q.Months()
	out := []CampaignROI{}
	if len(months) == 0 {
		return out, nil
	}
	costs, err := db.CampaignCosts(ctx, months[0], months[len(months)-1])
	if err != nil || len(costs) == 0 {
		return out, err
	}
	type key struct{ campaign, currency string }
	byKey := map[key]*CampaignROI{}
	for _, c := range costs {
		ms, me, err := MonthSpan(c.Month, q.Loc)
		if err != nil {
			continue
		}
		share := float64(overlap(ms, me, q.From, q.To)) / float64(me.Sub(ms))
		if share == 0 {
			continue
		}
		k := key{c.Campaign, c.Currency}
		x := byKey[k]
		if x == nil {
			x = &CampaignROI{Campaign: c.Campaign, Currency: c.Currency}
			byKey[k] = x
		}
		x.Cost += c.Amount * share
	}
	r := store.KPIRange{From: q.From, To: q.To, Granularity: wholePeriod, Group: "campaign"}
	cohorts, err := db.KPICohorts(ctx, r)
	if err != nil {
		return nil, err
	}
	won, err := db.KPIWon(ctx, r)
	if err != nil {
		return nil, err
	}
	for k, x := range byKey {
		for _, c := range cohorts {
			if c.Group != k.campaign {
				continue
			}
			switch c.Stage {
			case "lead":
				x.Leads += c.N
			case "mql":
				x.MQLs += c.N
			case "sql":
				x.SQLs += c.N
			case "customer":
				x.Customers += c.N
			}
		}
		for _, w := range won {
			if w.Group == k.campaign && w.Currency == k.currency {
				x.WonDeals += w.Deals
				x.WonAmount += w.Amount
			}
		}
		x.Cost = round(x.Cost, 2)
		x.WonAmount = round(x.WonAmount, 2)
		per := func(n int64) *float64 {
			if n == 0 {
				return nil
			}
			return ptr(round(x.Cost/float64(n), 2))
		}
		x.PerLead, x.PerMQL, x.PerSQL, x.PerCust = per(x.Leads), per(x.MQLs), per(x.SQLs), per(x.Customers)
		x.ROI = rate(x.WonAmount, x.Cost)
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, b CampaignROI) int {
		return cmp.Or(cmp.Compare(a.Campaign, b.Campaign), cmp.Compare(a.Currency, b.Currency))
	})
	return out, nil
}
