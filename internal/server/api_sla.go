package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

type slaYAMLOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

type slaPutInput struct {
	DryRun  bool   `query:"dry_run" doc:"Validate only; store nothing"`
	RawBody []byte `contentType:"application/yaml"`
}

// slaSettingsView is the parsed settings, for the settings page.
type slaSettingsView struct {
	Calendar  calendar.FileConfig `json:"calendar"`
	Policies  []sla.Policy        `json:"policies"`
	Stored    bool                `json:"stored" doc:"false until an admin stores settings (the defaults apply)"`
	UpdatedBy string              `json:"updated_by,omitempty"`
	UpdatedAt *time.Time          `json:"updated_at,omitempty"`
}

type slaSettingsOutput struct {
	Body slaSettingsView
}

// clockView is a clock with what its policy says and the business time
// left (negative when overdue) for a running clock.
type clockView struct {
	store.SLAClock
	Target           sla.Target `json:"target,omitempty"`
	Within           string     `json:"within,omitempty"`
	RemainingMinutes *int64     `json:"remaining_minutes,omitempty" doc:"Business minutes left until due_at (running clocks; negative when overdue)"`
}

type clocksOutput struct {
	Body struct {
		Items []clockView `json:"items"`
	}
}

type clockListInput struct {
	Status    string `query:"status" doc:"Comma-separated statuses: running (default), met, breached, canceled, or all"`
	Owner     string `query:"owner" doc:"Owner (user name)"`
	Policy    string `query:"policy" doc:"Policy id"`
	Stage     string `query:"stage" doc:"Stage of the clock"`
	DueBefore string `query:"due_before" doc:"RFC 3339 time; clocks due before it (the at-risk queue)"`
	Limit     int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type complianceInput struct {
	From string `query:"from" doc:"Start of the period (YYYY-MM-DD in the calendar's time zone, or RFC 3339); default 30 days before to"`
	To   string `query:"to" doc:"End of the period, exclusive (YYYY-MM-DD: the whole day is included); default now"`
}

type complianceLine struct {
	store.ComplianceRow
	Compliance *float64 `json:"compliance" doc:"met / (met + breached), 0–1; null when nothing is decided yet"`
}

type complianceOutput struct {
	Body struct {
		From     time.Time        `json:"from"`
		To       time.Time        `json:"to"`
		Policies []complianceLine `json:"policies" doc:"Totals per policy (owner empty)"`
		Owners   []complianceLine `json:"owners" doc:"Per policy and owner"`
	}
}

type holidaysInput struct {
	Year int `query:"year" minimum:"1970" maximum:"2200" doc:"Default: the current year in the calendar's time zone"`
}

type holidayView struct {
	Date    string `json:"date" doc:"YYYY-MM-DD"`
	Weekday string `json:"weekday"`
	Name    string `json:"name"`
	Company bool   `json:"company" doc:"A company holiday rather than a national one"`
}

type holidaysOutput struct {
	Body struct {
		Year     int           `json:"year"`
		TimeZone string        `json:"time_zone"`
		Items    []holidayView `json:"items"`
	}
}

// slaSettings returns the SLA settings in force and the stored document
// (nil while the defaults apply).
func (s *Server) slaSettings(ctx context.Context) (*sla.Policies, *store.Setting, error) {
	st, err := s.deps.DB.Setting(ctx, store.SettingSLA)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return sla.Default(), nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	p, err := sla.Parse("sla.yaml", []byte(st.Value))
	if err != nil {
		return nil, nil, leadflow.Internal(err, "stored SLA settings no longer validate")
	}
	return p, st, nil
}

func slaView(p *sla.Policies, st *store.Setting) slaSettingsView {
	v := slaSettingsView{Calendar: p.Config.File(), Policies: p.List, Stored: st != nil}
	if v.Policies == nil {
		v.Policies = []sla.Policy{}
	}
	if st != nil {
		v.UpdatedBy, v.UpdatedAt = st.UpdatedBy, &st.UpdatedAt
	}
	return v
}

func clockViews(p *sla.Policies, clocks []store.SLAClock, now time.Time) []clockView {
	out := make([]clockView, 0, len(clocks))
	for _, c := range clocks {
		v := clockView{SLAClock: c}
		if pol, ok := p.ByID(c.Policy); ok {
			v.Target, v.Within = pol.Target, pol.Within.String()
		}
		if c.Status == store.ClockRunning {
			m := int64(p.Remaining(now, c.DueAt) / time.Minute)
			v.RemainingMinutes = &m
		}
		v.StartedAt, v.DueAt = c.StartedAt.In(p.Calendar.Location()), c.DueAt.In(p.Calendar.Location())
		if !c.WarnAt.IsZero() {
			v.WarnAt = c.WarnAt.In(p.Calendar.Location())
		}
		out = append(out, v)
	}
	return out
}

// periodBound reads YYYY-MM-DD (midnight in loc; with end set, the next
// midnight so the day is included) or an RFC 3339 time.
func periodBound(name, v string, loc *time.Location, end bool) (time.Time, error) {
	if d, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, leadflow.Invalidf("query."+name, "%q is not a date (YYYY-MM-DD) or RFC 3339 time", v)
}

func (s *Server) registerSLA() {
	tags := []string{"sla"}
	huma.Register(s.api, huma.Operation{OperationID: "get-sla-settings", Method: http.MethodGet, Path: "/api/v1/settings/sla",
		Summary: "The SLA settings (YAML)", Description: "The stored YAML document, or the defaults while none is stored.",
		Tags: []string{"settings"}},
		func(ctx context.Context, _ *struct{}) (*slaYAMLOutput, error) {
			p, _, err := s.slaSettings(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &slaYAMLOutput{ContentType: "application/yaml; charset=utf-8", Body: []byte(p.Source)}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "put-sla-settings", Method: http.MethodPut, Path: "/api/v1/settings/sla",
		Summary: "Set the SLA policies and business calendar",
		Description: "YAML body (see docs/sla.md). Problems come back as a 400 problem with every error located at line:column; " +
			"invalid settings change nothing. New settings apply to clocks started from now on; running clocks keep their deadlines.",
		Tags: []string{"settings"}},
		func(ctx context.Context, in *slaPutInput) (*slaSettingsOutput, error) {
			p, err := sla.Parse("sla.yaml", in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if in.DryRun {
				return &slaSettingsOutput{Body: slaView(p, nil)}, nil
			}
			var st *store.Setting
			err = s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.PutSetting(ctx, store.SettingSLA, string(in.RawBody), string(actorOf(ctx))); err != nil {
					return err
				}
				st, err = tx.Setting(ctx, store.SettingSLA)
				return err
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &slaSettingsOutput{Body: slaView(p, st)}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "lead-sla", Method: http.MethodGet, Path: "/api/v1/leads/{id}/sla",
		Summary: "A lead's SLA clocks", Description: "Every clock of the lead, oldest first, with the business time left on running ones.",
		Tags: []string{"leads", "sla"}},
		func(ctx context.Context, in *leadIDInput) (*clocksOutput, error) {
			if _, err := s.deps.DB.FindLead(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			p, _, err := s.slaSettings(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			clocks, err := s.deps.DB.ClocksOfLead(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &clocksOutput{}
			out.Body.Items = clockViews(p, clocks, s.deps.Now())
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-sla-clocks", Method: http.MethodGet, Path: "/api/v1/sla/clocks",
		Summary: "SLA clocks by deadline", Description: "The at-risk queue: running clocks (by default), soonest deadline first.",
		Tags: tags},
		func(ctx context.Context, in *clockListInput) (*clocksOutput, error) {
			owner, err := s.ownerInScope(ctx, in.Owner)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			f := store.ClockFilter{Owner: owner, Policy: in.Policy, Stage: leadflow.Stage(in.Stage), Limit: in.Limit}
			switch strings.TrimSpace(in.Status) {
			case "":
				f.Status = []string{store.ClockRunning}
			case "all":
			default:
				for _, st := range strings.Split(in.Status, ",") {
					switch st = strings.TrimSpace(st); st {
					case "":
					case store.ClockRunning, store.ClockMet, store.ClockBreached, store.ClockCanceled:
						f.Status = append(f.Status, st)
					default:
						return nil, apiError(s.log, leadflow.Invalidf("query.status",
							"unknown SLA status %q: use running, met, breached, canceled or all", st))
					}
				}
			}
			if f.Stage != "" && !f.Stage.Valid() {
				return nil, apiError(s.log, leadflow.Invalidf("query.stage", "unknown stage %q", in.Stage))
			}
			if in.DueBefore != "" {
				t, err := time.Parse(time.RFC3339, in.DueBefore)
				if err != nil {
					return nil, apiError(s.log, leadflow.Invalidf("query.due_before", "%q is not an RFC 3339 time", in.DueBefore))
				}
				f.DueBefore = t
			}
			p, _, err := s.slaSettings(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			clocks, err := s.deps.DB.FindClocks(ctx, f)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &clocksOutput{}
			out.Body.Items = clockViews(p, clocks, s.deps.Now())
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "sla-compliance", Method: http.MethodGet, Path: "/api/v1/sla/compliance",
		Summary: "SLA compliance over a period",
		Description: "Clocks started in [from, to) by outcome, per policy and per policy and owner. " +
			"A target reached after the deadline counts as breached; canceled clocks (the lead left the stage in time) count neither way.",
		Tags: tags},
		func(ctx context.Context, in *complianceInput) (*complianceOutput, error) {
			p, _, err := s.slaSettings(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			loc := p.Calendar.Location()
			to, from := s.deps.Now(), time.Time{}
			if in.To != "" {
				if to, err = periodBound("to", in.To, loc, true); err != nil {
					return nil, apiError(s.log, err)
				}
			}
			from = to.AddDate(0, 0, -30)
			if in.From != "" {
				if from, err = periodBound("from", in.From, loc, false); err != nil {
					return nil, apiError(s.log, err)
				}
			}
			rows, err := s.deps.DB.SLACompliance(ctx, from, to)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &complianceOutput{}
			out.Body.From, out.Body.To = from.In(loc), to.In(loc)
			out.Body.Policies, out.Body.Owners = []complianceLine{}, []complianceLine{}
			for _, r := range rows {
				out.Body.Owners = append(out.Body.Owners, complianceLine{ComplianceRow: r, Compliance: r.Compliance()})
				n := len(out.Body.Policies)
				if n == 0 || out.Body.Policies[n-1].Policy != r.Policy {
					out.Body.Policies = append(out.Body.Policies, complianceLine{ComplianceRow: store.ComplianceRow{Policy: r.Policy}})
					n++
				}
				t := &out.Body.Policies[n-1].ComplianceRow
				t.Met, t.Breached, t.Running, t.Canceled, t.Warned = t.Met+r.Met, t.Breached+r.Breached, t.Running+r.Running, t.Canceled+r.Canceled, t.Warned+r.Warned
			}
			for i := range out.Body.Policies {
				out.Body.Policies[i].Compliance = out.Body.Policies[i].ComplianceRow.Compliance()
			}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "calendar-holidays", Method: http.MethodGet, Path: "/api/v1/calendar/holidays",
		Summary: "The business calendar's closed days",
		Description: "National holidays of Japan (when enabled) and company holidays of the SLA calendar, in date order; " +
			"a day that is both is listed twice.",
		Tags: []string{"settings"}},
		func(ctx context.Context, in *holidaysInput) (*holidaysOutput, error) {
			p, _, err := s.slaSettings(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			loc := p.Calendar.Location()
			year := in.Year
			if year == 0 {
				year = s.deps.Now().In(loc).Year()
			}
			out := &holidaysOutput{}
			out.Body.Year, out.Body.TimeZone, out.Body.Items = year, loc.String(), []holidayView{}
			for _, h := range p.Calendar.Holidays(year) {
				out.Body.Items = append(out.Body.Items, holidayView{Date: h.Date.Format("2006-01-02"),
					Weekday: h.Date.Weekday().String(), Name: h.Name, Company: h.Company})
			}
			return out, nil
		})
}
