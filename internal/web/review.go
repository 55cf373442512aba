package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/store"
)

// The review page: the review report of docs/kpis.md for the regular
// marketing–sales meeting, with a period selector, CSV/JSON exports and
// the user's subscription to the weekly email digest.

type reviewPreset struct {
	Key      string // catalog key suffix: review.p.<key>
	From, To string // dates, to inclusive
}

type reviewView struct {
	From, To   string // the period's dates (to inclusive)
	TZ         string
	Backtest   bool
	Presets    []reviewPreset
	Query      template.URL // from, to, tz of the exports and links
	R          *analytics.Review
	Subscribed bool
	SubLang    string
}

// reviewPresets are last week, this and last month and this quarter, in
// the company's time zone.
func reviewPresets(now time.Time, loc *time.Location) []reviewPreset {
	t := now.In(loc)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	monday := today.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
	month := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	quarter := time.Date(t.Year(), t.Month()-(t.Month()-1)%3, 1, 0, 0, 0, 0, loc)
	return []reviewPreset{
		{"last_week", day(monday.AddDate(0, 0, -7)), day(monday.AddDate(0, 0, -1))},
		{"this_month", day(month), day(today)},
		{"last_month", day(month.AddDate(0, -1, 0)), day(month.AddDate(0, 0, -1))},
		{"this_quarter", day(quarter), day(today)},
	}
}

// reviewPeriod reads from, to and tz (defaults: last week, the company's
// time zone).
func (h *handler) reviewPeriod(r *http.Request) (analytics.Period, reviewView, error) {
	q := r.URL.Query()
	loc := h.deps.Location
	tz := q.Get("tz")
	if tz == "" {
		tz = loc.String()
	}
	v := reviewView{From: q.Get("from"), To: q.Get("to"), TZ: tz, Backtest: q.Get("backtest") == "1"}
	l, err := analytics.LoadZone(tz)
	if err != nil {
		return analytics.Period{}, v, err
	}
	v.Presets = reviewPresets(h.now(), l)
	if v.From == "" && v.To == "" {
		v.From, v.To = v.Presets[0].From, v.Presets[0].To
	}
	p, err := analytics.ParsePeriod(v.From, v.To, tz, "", h.now())
	v.Query = template.URL(url.Values{"from": {v.From}, "to": {v.To}, "tz": {tz}}.Encode())
	return p, v, err
}

func (h *handler) reviewReport(r *http.Request, p analytics.Period, backtest bool) (*analytics.Review, error) {
	var active *analytics.BacktestModel
	if backtest {
		act, mv, err := h.deps.Flow.ActiveModel(r.Context())
		if err != nil {
			return nil, err
		}
		active = &analytics.BacktestModel{Name: mv.Name, Version: mv.Version, Model: act.Model}
	}
	return analytics.ReviewReport(r.Context(), h.deps.DB, p, h.now(), active)
}

// review shows the report of the chosen period.
func (h *handler) review(w http.ResponseWriter, r *http.Request) {
	p, v, err := h.reviewPeriod(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if v.R, err = h.reviewReport(r, p, v.Backtest); err != nil {
		h.fail(w, r, err)
		return
	}
	if u := userOf(r.Context()); u != nil {
		if me, err := h.deps.DB.FindUser(r.Context(), u.UserName); err == nil {
			if v.Subscribed, v.SubLang, err = h.deps.DB.ReviewSubscription(r.Context(), me.ID); err != nil {
				h.fail(w, r, err)
				return
			}
		}
	}
	h.render(w, r, http.StatusOK, "review", "review.title", v)
}

// reviewExport sends the report as CSV or JSON.
func (h *handler) reviewExport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, v, err := h.reviewPeriod(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rv, err := h.reviewReport(r, p, v.Backtest)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		name := "review-" + v.From + "-" + v.To + "." + format
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			_ = analytics.WriteReviewCSV(w, rv)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rv)
	}
}

// reviewSubscribe subscribes the logged-in user to the weekly digest (in
// the page's language) or unsubscribes them, and goes back to the page.
func (h *handler) reviewSubscribe(w http.ResponseWriter, r *http.Request) {
	u := userOf(r.Context())
	me, err := h.deps.DB.FindUser(r.Context(), u.UserName)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	on := r.PostFormValue("subscribed") == "1"
	lang := h.locale(r).Lang
	err = h.deps.DB.InTx(r.Context(), func(tx *store.Tx) error { return tx.SetReviewSubscription(r.Context(), me.ID, on, lang) })
	if err != nil {
		h.fail(w, r, err)
		return
	}
	back := "/review"
	if q := r.PostFormValue("query"); q != "" {
		if _, err := url.ParseQuery(q); err == nil {
			back += "?" + q
		}
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// Last is the last instant before the exclusive end t (for showing the
// last day of a period).
func (reviewView) Last(t time.Time) time.Time { return t.Add(-time.Microsecond) }

// Rate formats a share as a percentage ("—" for none).
func (reviewView) Rate(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(100**p, 'f', 1, 64) + "%"
}

// Hours formats hours with one decimal ("—" for none).
func (reviewView) Hours(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

// Delta formats a change with its sign; points of percentage for shares.
func (reviewView) Delta(p *float64, share bool) string {
	if p == nil {
		return "—"
	}
	x, unit := *p, ""
	if share {
		x, unit = 100*x, " pt"
	}
	s := strconv.FormatFloat(x, 'f', 1, 64)
	if x > 0 {
		s = "+" + s
	}
	return s + unit
}

// Diff is cur − prev with its sign.
func (reviewView) Diff(cur, prev int64) string {
	d := cur - prev
	if d > 0 {
		return "+" + strconv.FormatInt(d, 10)
	}
	return strconv.FormatInt(d, 10)
}

// Funnel pairs this period's counts with the previous period's, in funnel
// order.
func (v reviewView) Funnel() []reviewCount {
	c, p := v.R.Funnel, v.R.PrevFunnel
	stages := []string{"lead", "mql", "sal", "sql", "hql", "opportunity", "customer"}
	now := []int64{c.Leads, c.MQLs, c.SALs, c.SQLs, c.HQLs, c.Opportunities, c.Customers}
	prev := []int64{p.Leads, p.MQLs, p.SALs, p.SQLs, p.HQLs, p.Opportunities, p.Customers}
	out := make([]reviewCount, len(stages))
	for i, s := range stages {
		out[i] = reviewCount{Stage: s, Now: now[i], Prev: prev[i]}
	}
	return out
}

type reviewCount struct {
	Stage     string
	Now, Prev int64
}

// Parts splits a "mql→sql" change name into its stages.
func (reviewView) Parts(name string) []string {
	a, b, ok := strings.Cut(name, "→")
	if !ok {
		return []string{name}
	}
	return []string{a, b}
}
