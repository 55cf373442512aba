package web

import (
	"net/http"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// periods are the dashboard's choices, in days.
var periods = []int{30, 90, 180, 365}

type funnelStep struct {
	Stage leadflow.Stage
	Count int64
	// Conv is the count over the previous step's, Overall over the
	// leads' (as numerator and denominator, formatted by the locale).
	Prev int64
	Top  int64
}

type dashboardView struct {
	Days    int
	Periods []int
	From    time.Time
	To      time.Time
	Funnel  []funnelStep
	Trend   []store.TrendPoint
	SLA     store.SLAStatus
	Sources []store.SourceCount
	Charts  map[string]any
}

// dashboard shows the funnel of the leads created in the period, the MQL
// and SQL trend, the SLA at risk and breached now, and the top sources.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := h.locale(r)
	days := 90
	for _, p := range periods {
		if r.URL.Query().Get("days") == itoa(p) {
			days = p
		}
	}
	now := h.now()
	to := now.Add(time.Microsecond) // [from, to) includes now
	from := to.AddDate(0, 0, -days)
	v := dashboardView{Days: days, Periods: periods, From: from, To: to}
	counts, sources, err := h.deps.DB.FunnelAndSources(ctx, from, to)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Sources = sources
	for i, s := range leadflow.FunnelStages {
		st := funnelStep{Stage: s, Count: counts[i], Top: counts[0]}
		if i > 0 {
			st.Prev = counts[i-1]
		}
		v.Funnel = append(v.Funnel, st)
	}
	step := 7 * 24 * time.Hour
	if days <= 30 {
		step = 24 * time.Hour
	}
	if v.Trend, err = h.deps.DB.StageTrend(ctx, from, to, step); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.SLA, err = h.deps.DB.SLAStatusNow(ctx, now); err != nil {
		h.fail(w, r, err)
		return
	}
	v.Charts = h.charts(l, v)
	h.render(w, r, http.StatusOK, "dashboard", "dash.title", v)
}

// charts are the ECharts options of the dashboard, rendered by app.js
// from JSON (no inline script: the CSP forbids it).
func (h *handler) charts(l *locale, v dashboardView) map[string]any {
	var names []string
	var vals []int64
	for _, s := range v.Funnel {
		names = append(names, l.Stage(s.Stage))
		vals = append(vals, s.Count)
	}
	var days []string
	var mql, sql []int64
	for _, p := range v.Trend {
		days = append(days, l.Day(p.Start))
		mql, sql = append(mql, p.MQL), append(sql, p.SQL)
	}
	palette := []string{"#1f4e8c", "#2f6fb8", "#3f8fd6", "#4aa7c9", "#57b79b", "#7cc36b", "#b3cf5a"}
	bars := make([]map[string]any, len(vals))
	for i, x := range vals {
		bars[i] = map[string]any{"value": x, "itemStyle": map[string]any{"color": palette[i%len(palette)]}}
	}
	return map[string]any{
		"funnel": map[string]any{
			"grid":    map[string]any{"left": 90, "right": 40, "top": 10, "bottom": 20},
			"tooltip": map[string]any{"trigger": "axis"},
			"xAxis":   map[string]any{"type": "value"},
			"yAxis":   map[string]any{"type": "category", "data": names, "inverse": true},
			"series": []any{map[string]any{"type": "bar", "data": bars, "barWidth": "60%",
				"label": map[string]any{"show": true, "position": "right"}}},
		},
		"trend": map[string]any{
			"grid":    map[string]any{"left": 40, "right": 20, "top": 40, "bottom": 30},
			"tooltip": map[string]any{"trigger": "axis"},
			"legend":  map[string]any{"data": []string{"MQL", "SQL"}, "top": 0, "right": 10},
			"xAxis":   map[string]any{"type": "category", "data": days},
			"yAxis":   map[string]any{"type": "value", "minInterval": 1},
			"series": []any{
				map[string]any{"name": "MQL", "type": "line", "smooth": true, "data": mql, "color": "#2f6fb8", "areaStyle": map[string]any{"opacity": 0.12}},
				map[string]any{"name": "SQL", "type": "line", "smooth": true, "data": sql, "color": "#e07b39", "areaStyle": map[string]any{"opacity": 0.12}},
			},
		},
	}
}
