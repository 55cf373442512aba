package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// Campaign costs and monthly targets, entered by marketing, read by the
// KPI and review reports.

// CampaignCost is what a campaign cost in one calendar month.
type CampaignCost struct {
	Campaign  string    `json:"campaign"`
	Month     string    `json:"month" doc:"YYYY-MM"`
	Amount    float64   `json:"amount"`
	Currency  string    `json:"currency"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

var monthRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// ValidMonth reports whether s is a calendar month written YYYY-MM.
func ValidMonth(s string) bool { return monthRE.MatchString(s) }

// Check validates a cost; where prefixes the error location.
func (c *CampaignCost) Check(where string) error {
	c.Campaign = strings.TrimSpace(c.Campaign)
	c.Currency = strings.ToUpper(strings.TrimSpace(c.Currency))
	if c.Currency == "" {
		c.Currency = "JPY"
	}
	switch {
	case c.Campaign == "":
		return leadflow.Invalidf(where+"campaign", "campaign is required")
	case !ValidMonth(c.Month):
		return leadflow.Invalidf(where+"month", "month %q must be a calendar month written YYYY-MM, e.g. 2026-04", c.Month)
	case c.Amount < 0 || c.Amount != c.Amount || c.Amount > 1e15:
		return leadflow.Invalidf(where+"amount", "amount must be a number from 0 to 1e15")
	case len(c.Currency) != 3 || strings.Trim(c.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "":
		return leadflow.Invalidf(where+"currency", "currency %q must be a 3-letter ISO 4217 code such as JPY", c.Currency)
	}
	return nil
}

// UpsertCampaignCosts stores costs, replacing the cost of the same
// campaign and month.
func (tx *Tx) UpsertCampaignCosts(ctx context.Context, costs []CampaignCost, by string) error {
	for i := range costs {
		c := &costs[i]
		if err := c.Check(""); err != nil {
			return err
		}
		c.UpdatedBy, c.UpdatedAt = by, tx.Now
		if _, err := tx.exec(ctx, "CampaignCostUpsert", c.Campaign, c.Month, c.Amount, c.Currency, by, us(tx.Now)); err != nil {
			return err
		}
	}
	return nil
}

// CampaignCosts returns the costs of the months fromMonth … toMonth
// (YYYY-MM, inclusive).
func (db *DB) CampaignCosts(ctx context.Context, fromMonth, toMonth string) ([]CampaignCost, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("CampaignCosts"), fromMonth, toMonth)
	if err != nil {
		return nil, wrapDB(err, "campaign costs")
	}
	defer rows.Close()
	var out []CampaignCost
	for rows.Next() {
		var c CampaignCost
		var at int64
		if err := rows.Scan(&c.Campaign, &c.Month, &c.Amount, &c.Currency, &c.UpdatedBy, &at); err != nil {
			return nil, wrapDB(err, "campaign costs")
		}
		c.UpdatedAt = fromUS(at)
		out = append(out, c)
	}
	return out, wrapDB(rows.Err(), "campaign costs")
}

// Target is one monthly target.
type Target struct {
	Month     string    `json:"month" doc:"YYYY-MM"`
	Metric    string    `json:"metric" enum:"leads,mqls,sqls,opportunities,customers,won_amount"`
	Value     float64   `json:"value"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// TargetMetrics are the metrics a target may set.
var TargetMetrics = []string{"leads", "mqls", "sqls", "opportunities", "customers", "won_amount"}

// Check validates a target.
func (t *Target) Check(where string) error {
	ok := false
	for _, m := range TargetMetrics {
		ok = ok || m == t.Metric
	}
	switch {
	case !ValidMonth(t.Month):
		return leadflow.Invalidf(where+"month", "month %q must be a calendar month written YYYY-MM, e.g. 2026-04", t.Month)
	case !ok:
		return leadflow.Invalidf(where+"metric", "unknown metric %q; use one of %s", t.Metric, strings.Join(TargetMetrics, ", "))
	case t.Value < 0 || t.Value != t.Value || t.Value > 1e15:
		return leadflow.Invalidf(where+"value", "value must be a number from 0 to 1e15")
	}
	return nil
}

// SetTargets stores targets, replacing those of the same month and
// metric (a value of 0 is a target of zero), and deletes the (month,
// metric) pairs listed in remove.
func (tx *Tx) SetTargets(ctx context.Context, set []Target, remove []Target, by string) error {
	for i := range set {
		t := &set[i]
		if err := t.Check(fmt.Sprintf("targets[%d].", i)); err != nil {
			return err
		}
		t.UpdatedBy, t.UpdatedAt = by, tx.Now
		if _, err := tx.exec(ctx, "TargetUpsert", t.Month, t.Metric, t.Value, by, us(tx.Now)); err != nil {
			return err
		}
	}
	for _, t := range remove {
		if _, err := tx.exec(ctx, "TargetDelete", t.Month, t.Metric); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTargets deletes the targets of a month (YYYY-MM), only the one of
// metric when metric is not empty, and returns how many it deleted; none
// is an ENOTFOUND error.
func (tx *Tx) DeleteTargets(ctx context.Context, month, metric string) (int64, error) {
	if !ValidMonth(month) {
		return 0, leadflow.Invalidf("month", "%q must be a month written YYYY-MM", month)
	}
	if metric != "" && !slices.Contains(TargetMetrics, metric) {
		return 0, leadflow.Invalidf("metric", "unknown metric %q; use one of %s", metric, strings.Join(TargetMetrics, ", "))
	}
	res, err := tx.exec(ctx, "TargetDeleteMonth", month, metric, metric)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrapDB(err, "delete targets")
	}
	if n == 0 {
		what := "no targets for " + month
		if metric != "" {
			what = fmt.Sprintf("no %s target for %s", metric, month)
		}
		return 0, leadflow.Errorf(leadflow.ENOTFOUND, "%s", what)
	}
	return n, nil
}

// Targets returns the targets of the months fromMonth … toMonth.
func (db *DB) Targets(ctx context.Context, fromMonth, toMonth string) ([]Target, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("Targets"), fromMonth, toMonth)
	if err != nil {
		return nil, wrapDB(err, "targets")
	}
	defer rows.Close()
	var out []Target
	for rows.Next() {
		var t Target
		var at int64
		if err := rows.Scan(&t.Month, &t.Metric, &t.Value, &t.UpdatedBy, &at); err != nil {
			return nil, wrapDB(err, "targets")
		}
		t.UpdatedAt = fromUS(at)
		out = append(out, t)
	}
	return out, wrapDB(rows.Err(), "targets")
}

// Outcome is what happened to a lead, from its transitions: when it first
// reached SQL (or later), opportunity (or later) and customer; zero when
// it did not.
type Outcome struct {
	LeadID              int64
	SQLAt, OppAt, WonAt time.Time
}

// Outcomes calls fn once for every lead with lo < id <= hi that
// has a transition to sql or later or a won deal.
func (db *DB) Outcomes(ctx context.Context, lo, hi int64, fn func(Outcome) error) error {
	won := map[int64]int64{}
	rows, err := db.Read.QueryContext(ctx, db.q.get("BacktestWonDeals"), lo, hi)
	if err != nil {
		return wrapDB(err, "won deals")
	}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return wrapDB(err, "won deals")
		}
		won[id] = at
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrapDB(err, "won deals")
	}
	rows, err = db.Read.QueryContext(ctx, db.q.get("BacktestOutcomes"), lo, hi)
	if err != nil {
		return wrapDB(err, "outcomes")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s, o, w sql.NullInt64
		if err := rows.Scan(&id, &s, &o, &w); err != nil {
			return wrapDB(err, "outcomes")
		}
		if d, ok := won[id]; ok {
			if !w.Valid || d < w.Int64 {
				w = sql.NullInt64{Int64: d, Valid: true}
			}
			delete(won, id)
		}
		if !s.Valid && !o.Valid && !w.Valid {
			continue
		}
		if err := fn(Outcome{LeadID: id, SQLAt: fromUS(s.Int64), OppAt: fromUS(o.Int64), WonAt: fromUS(w.Int64)}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrapDB(err, "outcomes")
	}
	// Won deals of leads without transitions (a CRM import): rare, so
	// reported after the others, out of lead order.
	for id, at := range won {
		if err := fn(Outcome{LeadID: id, WonAt: fromUS(at)}); err != nil {
			return err
		}
	}
	return nil
}
