package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

type leadIDInput struct {
	ID int64 `path:"id" doc:"Lead id" minimum:"1"`
}

type leadOutput struct {
	Body *leadflow.Lead
}

type listLeadsInput struct {
	Stage        string `query:"stage" doc:"Comma-separated stages, e.g. mql,sql"`
	Owner        string `query:"owner" doc:"Owner (user name)"`
	ScoreMin     string `query:"score_min" doc:"Minimum score (inclusive)"`
	ScoreMax     string `query:"score_max" doc:"Maximum score (inclusive)"`
	UpdatedSince string `query:"updated_since" doc:"RFC 3339 time; leads updated at or after it"`
	Q            string `query:"q" doc:"Text search on name, email and company"`
	Email        string `query:"email" doc:"Exact email (case-insensitive)"`
	Source       string `query:"source" doc:"First-touch source (utm_source)"`
	Campaign     string `query:"campaign" doc:"First-touch campaign (utm_campaign)"`
	Industry     string `query:"industry" doc:"Industry"`
	Sort         string `query:"sort" doc:"score, updated_at or created_at; prefix - for descending (default -updated_at)"`
	Cursor       string `query:"cursor" doc:"next_cursor of the previous page"`
	Limit        int    `query:"limit" minimum:"1" maximum:"1000" default:"50"`
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor" doc:"Cursor of the next page; null on the last page"`
}

type listLeadsOutput struct {
	Body page[leadflow.Lead]
}

func newPage[T any](items []T, next string) page[T] {
	if items == nil {
		items = []T{}
	}
	p := page[T]{Items: items}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

func parseFloatParam(name, v string) (*float64, error) {
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, leadflow.Invalidf("query."+name, "%q is not a number", v)
	}
	return &f, nil
}

func (in *listLeadsInput) filter() (store.LeadFilter, error) {
	f := store.LeadFilter{Owner: in.Owner, Q: in.Q, Email: in.Email, Source: in.Source, Campaign: in.Campaign,
		Industry: in.Industry, Sort: in.Sort, Cursor: in.Cursor, Limit: in.Limit}
	for _, s := range strings.Split(in.Stage, ",") {
		if s = strings.TrimSpace(s); s != "" {
			st := leadflow.Stage(s)
			if !st.Valid() {
				return f, leadflow.Invalidf("query.stage", "unknown stage %q", s)
			}
			f.Stage = append(f.Stage, st)
		}
	}
	var err error
	if f.ScoreMin, err = parseFloatParam("score_min", in.ScoreMin); err != nil {
		return f, err
	}
	if f.ScoreMax, err = parseFloatParam("score_max", in.ScoreMax); err != nil {
		return f, err
	}
	if in.UpdatedSince != "" {
		t, err := time.Parse(time.RFC3339, in.UpdatedSince)
		if err != nil {
			return f, leadflow.Invalidf("query.updated_since", "%q is not an RFC 3339 time", in.UpdatedSince)
		}
		f.UpdatedSince = t
	}
	return f, nil
}

type createLeadInput struct {
	Body leadflow.LeadPatch
}

type updateLeadInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body leadflow.LeadPatch
}

type bantInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Budget       *bool   `json:"budget,omitempty" doc:"Budget confirmed"`
		Authority    *bool   `json:"authority,omitempty" doc:"Talking to the decision maker"`
		Need         *bool   `json:"need,omitempty" doc:"Need confirmed"`
		Timeline     *string `json:"timeline,omitempty" doc:"Expected purchase date (YYYY-MM-DD or RFC 3339); empty string clears it"`
		TimelineDays *int    `json:"timeline_days,omitempty" minimum:"0" maximum:"3650" doc:"Expected purchase in this many days from now"`
	}
}

type moveInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Stage  leadflow.Stage `json:"stage" doc:"Target stage (e.g. recycled, disqualified, sal, opportunity)"`
		Reason string         `json:"reason,omitempty" doc:"Why (shown in the stage history and reports)"`
	}
}

type timelineInput struct {
	ID     int64  `path:"id" minimum:"1"`
	Cursor string `query:"cursor"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type timelineOutput struct {
	Body page[leadflow.Event]
}

type transitionsOutput struct {
	Body struct {
		Items []leadflow.Transition `json:"items"`
	}
}

func (s *Server) registerLeads() {
	tags := []string{"leads"}
	huma.Register(s.api, huma.Operation{OperationID: "list-leads", Method: http.MethodGet, Path: "/api/v1/leads",
		Summary: "List leads", Description: "Filter, search, sort and page through leads (cursor pagination). " +
			"A sales key lists its user's and its user's team's leads only; on any operation under /api/v1/leads/{id} " +
			"another lead is not found (404), as in the UI.", Tags: tags},
		func(ctx context.Context, in *listLeadsInput) (*listLeadsOutput, error) {
			f, err := in.filter()
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if sc := callerOf(ctx).scope; !sc.All {
				f.Scope = &sc
			}
			items, next, err := s.deps.DB.FindLeads(ctx, f)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &listLeadsOutput{Body: newPage(items, next)}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "create-lead", Method: http.MethodPost, Path: "/api/v1/leads",
		Summary: "Create a lead", Description: "Creates, scores and qualifies a lead. Email is required and unique.",
		DefaultStatus: http.StatusCreated, Tags: tags},
		func(ctx context.Context, in *createLeadInput) (*leadOutput, error) {
			l, err := s.deps.Flow.CreateLead(ctx, in.Body, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &leadOutput{Body: l}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-lead", Method: http.MethodGet, Path: "/api/v1/leads/{id}",
		Summary: "Get a lead", Tags: tags},
		func(ctx context.Context, in *leadIDInput) (*leadOutput, error) {
			l, err := s.deps.DB.FindLead(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &leadOutput{Body: l}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "update-lead", Method: http.MethodPatch, Path: "/api/v1/leads/{id}",
		Summary: "Update a lead", Description: "Sets the given attributes; the lead is re-scored and re-qualified in the same transaction.", Tags: tags},
		func(ctx context.Context, in *updateLeadInput) (*leadOutput, error) {
			l, err := s.deps.Flow.UpdateLead(ctx, in.ID, in.Body, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &leadOutput{Body: l}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "erase-lead", Method: http.MethodDelete, Path: "/api/v1/leads/{id}",
		Summary: "Erase a lead", Description: "Removes the lead's personal data from every table; an audit record is kept.",
		DefaultStatus: http.StatusNoContent, Tags: tags},
		func(ctx context.Context, in *leadIDInput) (*struct{}, error) {
			return nil, apiError(s.log, s.deps.Flow.EraseLead(ctx, in.ID, actorOf(ctx)))
		})
	huma.Register(s.api, huma.Operation{OperationID: "set-bant", Method: http.MethodPut, Path: "/api/v1/leads/{id}/bant",
		Summary: "Set BANT", Description: "Records Budget, Authority, Need and Timeline; the lead is re-qualified (e.g. to HQL).", Tags: tags},
		func(ctx context.Context, in *bantInput) (*leadOutput, error) {
			cur, err := s.deps.DB.FindLead(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			b := cur.BANT
			if in.Body.Budget != nil {
				b.Budget = *in.Body.Budget
			}
			if in.Body.Authority != nil {
				b.Authority = *in.Body.Authority
			}
			if in.Body.Need != nil {
				b.Need = *in.Body.Need
			}
			if in.Body.Timeline != nil && in.Body.TimelineDays != nil {
				return nil, apiError(s.log, leadflow.Invalidf("body.timeline", "give timeline or timeline_days, not both"))
			}
			if in.Body.Timeline != nil {
				if *in.Body.Timeline == "" {
					b.Timeline = nil
				} else {
					t, err := parseDate(*in.Body.Timeline)
					if err != nil {
						return nil, apiError(s.log, err)
					}
					b.Timeline = &t
				}
			}
			if in.Body.TimelineDays != nil {
				t := s.deps.Now().UTC().Add(time.Duration(*in.Body.TimelineDays) * 24 * time.Hour)
				b.Timeline = &t
			}
			l, err := s.deps.Flow.UpdateLead(ctx, in.ID, leadflow.LeadPatch{BANT: &b}, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &leadOutput{Body: l}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "move-lead", Method: http.MethodPost, Path: "/api/v1/leads/{id}/stage",
		Summary: "Move a lead to a stage", Description: "A manual stage change (recycle, disqualify, accept, …) with a reason.", Tags: tags},
		func(ctx context.Context, in *moveInput) (*leadOutput, error) {
			if !in.Body.Stage.Valid() {
				return nil, apiError(s.log, leadflow.Invalidf("body.stage", "unknown stage %q", in.Body.Stage))
			}
			l, err := s.deps.Flow.MoveLead(ctx, in.ID, in.Body.Stage, in.Body.Reason, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &leadOutput{Body: l}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "lead-timeline", Method: http.MethodGet, Path: "/api/v1/leads/{id}/timeline",
		Summary: "A lead's events, newest first", Tags: tags},
		func(ctx context.Context, in *timelineInput) (*timelineOutput, error) {
			if _, err := s.deps.DB.FindLead(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			items, next, err := s.deps.DB.Timeline(ctx, in.ID, in.Cursor, in.Limit)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &timelineOutput{Body: newPage(items, next)}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "lead-transitions", Method: http.MethodGet, Path: "/api/v1/leads/{id}/transitions",
		Summary: "A lead's stage history", Description: "Every transition with time, cause, reason and the score explanation at the time.", Tags: tags},
		func(ctx context.Context, in *leadIDInput) (*transitionsOutput, error) {
			if _, err := s.deps.DB.FindLead(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			items, err := s.deps.DB.TransitionsOfLead(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &transitionsOutput{}
			out.Body.Items = items
			if out.Body.Items == nil {
				out.Body.Items = []leadflow.Transition{}
			}
			return out, nil
		})
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, leadflow.Invalidf("body.timeline", "%q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
}
