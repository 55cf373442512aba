package server

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/analytics"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// PeriodParams are the query parameters of every KPI read (exported: huma
// only reads the fields of exported embedded structs).
type PeriodParams struct {
	From     string `query:"from" doc:"Start: a date (YYYY-MM-DD, midnight in tz) or RFC 3339 time; default the first day of the month two months ago"`
	To       string `query:"to" doc:"End: a date (inclusive) or RFC 3339 time (exclusive); default now"`
	TZ       string `query:"tz" doc:"IANA time zone of dates and buckets, e.g. Asia/Tokyo (default UTC)"`
	Format   string `query:"format" enum:",json,csv" doc:"csv for CSV (or send Accept: text/csv)"`
	Accept   string `header:"Accept"`
	Interval string `query:"interval" enum:",week,month,quarter" doc:"Bucket size (default month)"`
}

func (p PeriodParams) csv() bool {
	return p.Format == "csv" || (p.Format == "" && strings.Contains(p.Accept, "text/csv"))
}

type kpiInput struct {
	PeriodParams
	GroupBy string `query:"group_by" enum:",source,medium,campaign,industry,owner,team" doc:"Breakdown"`
}

// rawOutput is a JSON report or its CSV form.
type rawOutput struct {
	ContentType string `header:"Content-Type"`
	Body        any
}

func csvOutput(write func(*bytes.Buffer) error) (*rawOutput, error) {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return nil, err
	}
	return &rawOutput{ContentType: "text/csv; charset=utf-8", Body: b.Bytes()}, nil
}

type costInput struct {
	ID   string `path:"id" doc:"Campaign name as in leads' utm_campaign"`
	Body struct {
		Month    string  `json:"month" doc:"YYYY-MM"`
		Amount   float64 `json:"amount" minimum:"0"`
		Currency string  `json:"currency,omitempty" doc:"ISO 4217 code (default JPY)"`
	}
}

type costOutput struct {
	Body store.CampaignCost
}

type costsImportInput struct {
	RawBody []byte `contentType:"text/csv"`
}

type costsImportOutput struct {
	Body struct {
		Stored int                  `json:"stored"`
		Costs  []store.CampaignCost `json:"costs"`
	}
}

type targetsBody struct {
	Targets []store.Target `json:"targets"`
}

type targetsPutInput struct {
	Body targetsBody
}

type targetsGetInput struct {
	From string `query:"from" doc:"First month (YYYY-MM); default the current month"`
	To   string `query:"to" doc:"Last month (YYYY-MM); default from"`
	TZ   string `query:"tz" doc:"Time zone of progress and forecast (default UTC)"`
}

type targetsOutput struct {
	Body struct {
		Targets  []store.Target             `json:"targets"`
		Progress []analytics.TargetProgress `json:"progress"`
	}
}

type targetsDeleteInput struct {
	Month  string `path:"month" doc:"The month (YYYY-MM)"`
	Metric string `query:"metric" enum:",leads,mqls,sqls,opportunities,customers,won_amount" doc:"Delete only this metric's target (default: every target of the month)"`
}

type targetsDeleteOutput struct {
	Body struct {
		Month   string `json:"month"`
		Deleted int64  `json:"deleted" doc:"How many (month, metric) targets were deleted"`
	}
}

type subscriptionInput struct {
	User string `path:"user" doc:"The user's name"`
	Body struct {
		Subscribed bool   `json:"subscribed" doc:"true: send this user the weekly review digest"`
		Lang       string `json:"lang,omitempty" enum:",ja,en" doc:"Language of the digest (default ja)"`
	}
}

type subscription struct {
	User       string `json:"user"`
	Subscribed bool   `json:"subscribed"`
	Lang       string `json:"lang,omitempty"`
}

type subscriptionOutput struct {
	Body subscription
}

type subscriptionsOutput struct {
	Body struct {
		Subscriptions []subscription `json:"subscriptions"`
	}
}

type reviewInput struct {
	PeriodParams
	Backtest bool `query:"backtest" default:"true" doc:"Replay the active model over the period (false: skip)"`
}

type backtestInput struct {
	From       string  `query:"from" required:"true" doc:"Cohort start (leads created from): date or RFC 3339"`
	To         string  `query:"to" required:"true" doc:"Cohort end: date (inclusive) or RFC 3339"`
	TZ         string  `query:"tz" doc:"Time zone of dates and months (default UTC)"`
	Thresholds string  `query:"thresholds" doc:"from:to:step or a list (default 10:150:5)"`
	Capacity   float64 `query:"capacity" minimum:"0" doc:"MQLs per month sales can take"`
	Beta       float64 `query:"beta" minimum:"0" doc:"F-beta weight (default 1)"`
	Outcome    string  `query:"outcome" enum:",customer,sql" doc:"What a good MQL becomes (default customer)"`
	CompareAt  float64 `query:"compare_at" doc:"Draft threshold for the changes against the active model (default the draft's own)"`
	Format     string  `query:"format" enum:",json,csv"`
	Accept     string  `header:"Accept"`
	Filename   string  `query:"filename" doc:"Name used in error positions (default draft.yaml)"`
	RawBody    []byte  `contentType:"application/yaml"`
}

func (s *Server) registerKPI() {
	tags := []string{"kpis"}
	huma.Register(s.api, huma.Operation{OperationID: "get-kpis", Method: http.MethodGet, Path: "/api/v1/kpis",
		Summary: "Funnel KPIs of a period",
		Description: "Counts per stage, cohort and period conversion, velocity (median and p90), time to first touch, SLA compliance, " +
			"rejections, recycles, won amounts, score distribution and campaign cost/ROI, for all leads and per group, " +
			"over the period and per week, month or quarter. Definitions: docs/kpis.md.", Tags: tags},
		func(ctx context.Context, in *kpiInput) (*rawOutput, error) {
			p, err := analytics.ParsePeriod(in.From, in.To, in.TZ, in.Interval, s.deps.Now())
			if err != nil {
				return nil, apiError(s.log, err)
			}
			rep, err := analytics.KPIs(ctx, s.deps.DB, analytics.Query{Period: p, GroupBy: in.GroupBy, Now: s.deps.Now()})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if in.csv() {
				return csvOutput(func(b *bytes.Buffer) error { return analytics.WriteKPICSV(b, rep) })
			}
			return &rawOutput{ContentType: "application/json", Body: rep}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "set-campaign-cost", Method: http.MethodPost, Path: "/api/v1/campaigns/{id}/costs",
		Summary: "Set a campaign's cost for a month", Description: "Replaces the cost of the same campaign and month.", Tags: tags},
		func(ctx context.Context, in *costInput) (*costOutput, error) {
			c := store.CampaignCost{Campaign: in.ID, Month: in.Body.Month, Amount: in.Body.Amount, Currency: in.Body.Currency}
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				cs := []store.CampaignCost{c}
				if err := tx.UpsertCampaignCosts(ctx, cs, string(actorOf(ctx))); err != nil {
					return err
				}
				c = cs[0]
				return nil
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &costOutput{Body: c}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "import-campaign-costs", Method: http.MethodPost, Path: "/api/v1/imports/campaign-costs",
		Summary: "Import campaign costs (CSV)",
		Description: "Header campaign,month,amount[,currency]; one row per campaign and month (YYYY-MM). " +
			"All rows are stored in one transaction, or none when any row is invalid (each invalid row is listed).",
		MaxBodyBytes: 16 << 20, Tags: tags},
		func(ctx context.Context, in *costsImportInput) (*costsImportOutput, error) {
			costs, err := analytics.ReadCostsCSV(bytes.NewReader(in.RawBody))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			err = s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				return tx.UpsertCampaignCosts(ctx, costs, string(actorOf(ctx)))
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &costsImportOutput{}
			out.Body.Stored, out.Body.Costs = len(costs), costs
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "put-targets", Method: http.MethodPut, Path: "/api/v1/targets",
		Summary: "Set monthly targets",
		Description: "Sets each listed (month, metric) target: leads, mqls, sqls, opportunities, customers or won_amount. " +
			"Other targets are left as they are; a negative value is refused.", Tags: tags},
		func(ctx context.Context, in *targetsPutInput) (*targetsOutput, error) {
			if len(in.Body.Targets) == 0 {
				return nil, apiError(s.log, leadflow.Invalidf("targets", "give at least one target"))
			}
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetTargets(ctx, in.Body.Targets, nil, string(actorOf(ctx)))
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &targetsOutput{}
			out.Body.Targets, out.Body.Progress = in.Body.Targets, []analytics.TargetProgress{}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-targets", Method: http.MethodGet, Path: "/api/v1/targets",
		Summary: "Monthly targets with progress and forecast", Tags: tags},
		func(ctx context.Context, in *targetsGetInput) (*targetsOutput, error) {
			loc, err := analytics.LoadZone(in.TZ)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			now := s.deps.Now()
			from, to := in.From, in.To
			if from == "" {
				from = now.In(loc).Format("2006-01")
			}
			if to == "" {
				to = from
			}
			for _, m := range [][2]string{{"from", from}, {"to", to}} {
				if !store.ValidMonth(m[1]) {
					return nil, apiError(s.log, leadflow.Invalidf(m[0], "%q must be a month written YYYY-MM", m[1]))
				}
			}
			if to < from {
				return nil, apiError(s.log, leadflow.Invalidf("to", "the last month is before the first"))
			}
			ts, err := s.deps.DB.Targets(ctx, from, to)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			ms, _, _ := analytics.MonthSpan(from, loc)
			_, me, _ := analytics.MonthSpan(to, loc)
			prog, err := analytics.Progress(ctx, s.deps.DB, analytics.Period{From: ms, To: me, Loc: loc, Interval: analytics.Month}, now)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &targetsOutput{}
			if ts == nil {
				ts = []store.Target{}
			}
			out.Body.Targets, out.Body.Progress = ts, prog
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "delete-targets", Method: http.MethodDelete, Path: "/api/v1/targets/{month}",
		Summary:     "Delete a month's targets",
		Description: "Deletes every target of the month, or only the metric's with ?metric=. 404 when there is none to delete.", Tags: tags},
		func(ctx context.Context, in *targetsDeleteInput) (*targetsDeleteOutput, error) {
			var n int64
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				var err error
				n, err = tx.DeleteTargets(ctx, in.Month, in.Metric)
				return err
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &targetsDeleteOutput{}
			out.Body.Month, out.Body.Deleted = in.Month, n
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-review", Method: http.MethodGet, Path: "/api/v1/reports/review",
		Summary: "The review report for the marketing–sales meeting",
		Description: "Funnel against targets, conversion and velocity against the previous period of the same length, SLA compliance " +
			"by team and rep, top rejection reasons and a backtest summary of the active model.", Tags: tags},
		func(ctx context.Context, in *reviewInput) (*rawOutput, error) {
			now := s.deps.Now()
			p, err := analytics.ParsePeriod(in.From, in.To, in.TZ, in.Interval, now)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			var active *analytics.BacktestModel
			if in.Backtest {
				act, mv, err := s.deps.Flow.ActiveModel(ctx)
				if err != nil {
					return nil, apiError(s.log, err)
				}
				active = &analytics.BacktestModel{Name: mv.Name, Version: mv.Version, Model: act.Model}
			}
			rv, err := analytics.ReviewReport(ctx, s.deps.DB, p, now, active)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if in.csv() {
				return csvOutput(func(b *bytes.Buffer) error { return analytics.WriteReviewCSV(b, rv) })
			}
			return &rawOutput{ContentType: "application/json", Body: rv}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-review-subscriptions", Method: http.MethodGet,
		Path: "/api/v1/reports/review/subscriptions", Summary: "Who gets the weekly review digest",
		Description: "Active users with an email address who subscribe to the weekly review digest (Monday 09:00, company time zone).",
		Tags:        tags},
		func(ctx context.Context, _ *struct{}) (*subscriptionsOutput, error) {
			subs, err := s.deps.DB.ReviewSubscribers(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &subscriptionsOutput{}
			out.Body.Subscriptions = []subscription{}
			for _, x := range subs {
				out.Body.Subscriptions = append(out.Body.Subscriptions, subscription{User: x.Name, Subscribed: true, Lang: x.Lang})
			}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "set-review-subscription", Method: http.MethodPut,
		Path: "/api/v1/reports/review/subscriptions/{user}", Summary: "Subscribe a user to the weekly review digest, or unsubscribe",
		Tags: tags},
		func(ctx context.Context, in *subscriptionInput) (*subscriptionOutput, error) {
			u, err := s.deps.DB.FindUser(ctx, in.User)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			lang := in.Body.Lang
			if lang == "" {
				lang = "ja"
			}
			err = s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				return tx.SetReviewSubscription(ctx, u.ID, in.Body.Subscribed, lang)
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &subscriptionOutput{Body: subscription{User: u.Name, Subscribed: in.Body.Subscribed}}
			if in.Body.Subscribed {
				out.Body.Lang = lang
			}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "backtest-model", Method: http.MethodPost, Path: "/api/v1/model/backtest",
		Summary: "Backtest a draft model",
		Description: "Replays the events of the leads created in the period through the draft (the YAML body) and the active model, " +
			"without changing anything, and reports per threshold MQLs per month, precision, recall and F-beta, " +
			"with recommended thresholds and the leads that would move in or out. See docs/backtest.md.",
		MaxBodyBytes: 1 << 20, Tags: []string{"scoring model"}},
		func(ctx context.Context, in *backtestInput) (*rawOutput, error) {
			name := in.Filename
			if name == "" {
				name = "draft.yaml"
			}
			draft, err := scoring.Compile(name, in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			p, err := analytics.ParsePeriod(in.From, in.To, in.TZ, "", s.deps.Now())
			if err != nil {
				return nil, apiError(s.log, err)
			}
			ts, err := analytics.ParseThresholds(in.Thresholds)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			act, mv, err := s.deps.Flow.ActiveModel(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			res, err := analytics.Backtest(ctx, s.deps.DB, analytics.BacktestModel{Name: draft.Name, Model: draft},
				&analytics.BacktestModel{Name: mv.Name, Version: mv.Version, Model: act.Model},
				analytics.BacktestOptions{From: p.From, To: p.To, Loc: p.Loc, Thresholds: ts, Capacity: in.Capacity,
					Beta: in.Beta, Outcome: in.Outcome, CompareAt: in.CompareAt})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if in.Format == "csv" || (in.Format == "" && strings.Contains(in.Accept, "text/csv")) {
				return csvOutput(func(b *bytes.Buffer) error { return analytics.WriteBacktestCSV(b, res) })
			}
			return &rawOutput{ContentType: "application/json", Body: res}, nil
		})
}
