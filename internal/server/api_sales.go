package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/store"
)

// salesBody is what every sales action takes: who acts and a note.
type salesBody struct {
	User string `json:"user,omitempty" doc:"The salesperson acting (user name); recorded as the cause. Defaults to the API key, or to its user for a key of a user (which may name no one else)."`
	Note string `json:"note,omitempty" maxLength:"2000"`
}

type salesInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body salesBody
}

type reasonInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		User   string `json:"user,omitempty" doc:"The salesperson acting (user name)"`
		Note   string `json:"note,omitempty" maxLength:"2000"`
		Reason string `json:"reason" minLength:"1" doc:"A configured reason id (GET /api/v1/settings/rejection-reasons)"`
	}
}

type touchInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		User    string     `json:"user,omitempty"`
		Kind    string     `json:"kind" enum:"call,email,meeting,other"`
		Outcome string     `json:"outcome,omitempty" maxLength:"200" doc:"e.g. connected, voicemail, no answer, meeting booked"`
		Note    string     `json:"note,omitempty" maxLength:"4000"`
		At      *time.Time `json:"at,omitempty" doc:"When it happened (default now)"`
	}
}

type touchOutput struct {
	Body *store.Touch
}

type touchesOutput struct {
	Body struct {
		Items []store.Touch `json:"items"`
	}
}

type handoffOutput struct {
	Body *flow.Handoff
}

type dealInput struct {
	Body struct {
		LeadID     int64      `json:"lead_id,omitempty"`
		Email      string     `json:"email,omitempty" doc:"The lead's email, when lead_id is not known"`
		ExternalID string     `json:"external_id" minLength:"1" doc:"The CRM's deal id"`
		Name       string     `json:"name,omitempty"`
		Status     string     `json:"status" enum:"open,won,lost"`
		Amount     float64    `json:"amount,omitempty" minimum:"0"`
		Currency   string     `json:"currency,omitempty" doc:"ISO 4217, default JPY"`
		Reason     string     `json:"reason,omitempty" doc:"Why a deal was lost"`
		At         *time.Time `json:"at,omitempty" doc:"When the deal was opened or closed (default now)"`
		CloseDate  *time.Time `json:"close_date,omitempty" doc:"Alias of at"`
	}
}

type patchDealInput struct {
	ExternalID string `path:"external_id"`
	Body       struct {
		Name      *string    `json:"name,omitempty"`
		Status    *string    `json:"status,omitempty" enum:"open,won,lost"`
		Amount    *float64   `json:"amount,omitempty" minimum:"0"`
		Currency  *string    `json:"currency,omitempty"`
		Reason    *string    `json:"reason,omitempty" doc:"Why a deal was lost"`
		CloseDate *time.Time `json:"close_date,omitempty"`
	}
}

type dealOutput struct {
	Body struct {
		Deal *store.Deal    `json:"deal"`
		Lead *leadflow.Lead `json:"lead"`
	}
}

type dealImportOutput struct {
	Body struct {
		Applied  int               `json:"applied"`
		Rejected []leadflow.Detail `json:"rejected"`
	}
}

type reasonsOutput struct {
	Body struct {
		Items []lifecycle.Reason `json:"items"`
	}
}

func (s *Server) registerSales() {
	tags := []string{"sales"}
	action := func(id, path, summary, desc string, fn func(ctx context.Context, in *salesInput) (*leadflow.Lead, error)) {
		huma.Register(s.api, huma.Operation{OperationID: id, Method: http.MethodPost, Path: path, Summary: summary, Description: desc, Tags: tags},
			func(ctx context.Context, in *salesInput) (*leadOutput, error) {
				l, err := fn(ctx, in)
				return &leadOutput{Body: l}, apiError(s.log, err)
			})
	}
	action("accept-lead", "/api/v1/leads/{id}/accept", "Accept an MQL", "Sales accepts the MQL: it becomes a SAL and the acceptance SLA stops.",
		func(ctx context.Context, in *salesInput) (*leadflow.Lead, error) {
			a, err := s.salesActor(ctx, in.Body.User)
			if err != nil {
				return nil, err
			}
			return s.deps.Flow.Accept(ctx, in.ID, in.Body.Note, a)
		})
	action("qualify-lead", "/api/v1/leads/{id}/qualify", "Qualify a lead (SQL)", "Sales confirms the need: the lead becomes an SQL.",
		func(ctx context.Context, in *salesInput) (*leadflow.Lead, error) {
			a, err := s.salesActor(ctx, in.Body.User)
			if err != nil {
				return nil, err
			}
			return s.deps.Flow.Qualify(ctx, in.ID, in.Body.Note, a)
		})
	reasonAction := func(id, path, summary, desc string, fn func(ctx context.Context, in *reasonInput) (*leadflow.Lead, error)) {
		huma.Register(s.api, huma.Operation{OperationID: id, Method: http.MethodPost, Path: path, Summary: summary, Description: desc, Tags: tags},
			func(ctx context.Context, in *reasonInput) (*leadOutput, error) {
				l, err := fn(ctx, in)
				return &leadOutput{Body: l}, apiError(s.log, err)
			})
	}
	reasonAction("reject-lead", "/api/v1/leads/{id}/reject", "Reject a lead",
		"Sales returns an MQL/SAL/SQL/HQL with a configured reason: the lead is recycled to nurture and the reason is reported to marketing.",
		func(ctx context.Context, in *reasonInput) (*leadflow.Lead, error) {
			a, err := s.salesActor(ctx, in.Body.User)
			if err != nil {
				return nil, err
			}
			return s.deps.Flow.Reject(ctx, in.ID, in.Body.Reason, in.Body.Note, a)
		})
	reasonAction("disqualify-lead", "/api/v1/leads/{id}/disqualify", "Disqualify a lead", "Junk, competitor, student, duplicate: the lead leaves the funnel.",
		func(ctx context.Context, in *reasonInput) (*leadflow.Lead, error) {
			a, err := s.salesActor(ctx, in.Body.User)
			if err != nil {
				return nil, err
			}
			return s.deps.Flow.Disqualify(ctx, in.ID, in.Body.Reason, in.Body.Note, a)
		})
	huma.Register(s.api, huma.Operation{OperationID: "log-touch", Method: http.MethodPost, Path: "/api/v1/leads/{id}/touches",
		Summary: "Log a touch", Description: "A call, email or meeting; the first touch stops the lead's first-touch SLA clock.",
		DefaultStatus: http.StatusCreated, Tags: tags},
		func(ctx context.Context, in *touchInput) (*touchOutput, error) {
			t := store.Touch{Kind: in.Body.Kind, Outcome: in.Body.Outcome, Note: in.Body.Note}
			if in.Body.At != nil {
				t.At = in.Body.At.UTC()
			}
			a, err := s.salesActor(ctx, in.Body.User)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out, err := s.deps.Flow.LogTouch(ctx, in.ID, t, a)
			return &touchOutput{Body: out}, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-touches", Method: http.MethodGet, Path: "/api/v1/leads/{id}/touches",
		Summary: "A lead's touches, newest first", Tags: tags},
		func(ctx context.Context, in *leadIDInput) (*touchesOutput, error) {
			if _, err := s.deps.DB.FindLead(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			items, err := s.deps.DB.TouchesOfLead(ctx, in.ID)
			out := &touchesOutput{}
			out.Body.Items = items
			return out, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "lead-handoff", Method: http.MethodGet, Path: "/api/v1/leads/{id}/handoff",
		Summary: "The handoff context",
		Description: "Stage and why, score with its explanation, top content viewed, recent timeline, source and campaign, BANT, " +
			"owner and SLA deadline, previous owners and rejection reasons: what travels with every notification.", Tags: tags},
		func(ctx context.Context, in *leadIDInput) (*handoffOutput, error) {
			h, err := s.deps.Flow.Handoff(ctx, in.ID)
			return &handoffOutput{Body: h}, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "update-deal", Method: http.MethodPost, Path: "/api/v1/deals",
		Summary:     "Record a deal from the CRM",
		Description: "Upserts a deal by external_id: open moves the lead to opportunity, won to customer, lost recycles it with the reason.",
		Tags:        []string{"crm"}},
		func(ctx context.Context, in *dealInput) (*dealOutput, error) {
			d := flow.Deal{Email: in.Body.Email, Deal: store.Deal{LeadID: in.Body.LeadID, ExternalID: in.Body.ExternalID, Name: in.Body.Name,
				Status: in.Body.Status, Amount: in.Body.Amount, Currency: in.Body.Currency, Reason: in.Body.Reason}}
			if in.Body.At != nil {
				d.At = in.Body.At.UTC()
			} else if in.Body.CloseDate != nil {
				d.At = in.Body.CloseDate.UTC()
			}
			if err := s.checkDeal(ctx, d); err != nil {
				return nil, apiError(s.log, err)
			}
			deal, lead, err := s.deps.Flow.UpdateDeal(ctx, d, actorOf(ctx))
			out := &dealOutput{}
			out.Body.Deal, out.Body.Lead = deal, lead
			return out, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "patch-deal", Method: http.MethodPatch, Path: "/api/v1/deals/{external_id}",
		Summary: "Update a deal from the CRM", Description: "Changes the given fields of a deal known by its CRM id and moves the lead as POST does.",
		Tags: []string{"crm"}},
		func(ctx context.Context, in *patchDealInput) (*dealOutput, error) {
			cur, err := s.deps.DB.DealByExternalID(ctx, in.ExternalID)
			if err == nil {
				err = s.checkDeal(ctx, flow.Deal{Deal: store.Deal{ExternalID: cur.ExternalID, LeadID: cur.LeadID}})
			}
			if err != nil {
				return nil, apiError(s.log, err)
			}
			d := *cur
			b := in.Body
			if b.Name != nil {
				d.Name = *b.Name
			}
			if b.Status != nil {
				d.Status = *b.Status
			}
			if b.Amount != nil {
				d.Amount = *b.Amount
			}
			if b.Currency != nil {
				d.Currency = *b.Currency
			}
			if b.Reason != nil {
				d.Reason = *b.Reason
			}
			if b.CloseDate != nil {
				d.At = b.CloseDate.UTC()
			}
			deal, lead, err := s.deps.Flow.UpdateDeal(ctx, flow.Deal{Deal: d}, actorOf(ctx))
			out := &dealOutput{}
			out.Body.Deal, out.Body.Lead = deal, lead
			return out, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "import-deals", Method: http.MethodPost, Path: "/api/v1/imports/deals",
		Summary: "Import deals (CSV)",
		Description: "Columns: external_id, email or lead_id, status (open, won, lost), amount, currency, name, reason, at (RFC 3339). " +
			"The file is checked first; a malformed file or any invalid row applies nothing.",
		MaxBodyBytes: 16 << 20, Tags: []string{"crm"}},
		func(ctx context.Context, in *importInput) (*dealImportOutput, error) {
			rows, rejected, err := flow.ParseDeals(in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if len(rejected) > 0 {
				return nil, apiError(s.log, &leadflow.Error{Code: leadflow.EINVALID, Message: fmt.Sprintf("%d rows are invalid; nothing was applied", len(rejected)), Details: rejected})
			}
			// Rows of leads the caller does not see are rejected as rows of
			// leads that do not exist.
			var hidden []leadflow.Detail
			visible := rows[:0:0]
			for _, r := range rows {
				if err := s.checkDeal(ctx, r.Deal); err != nil {
					if leadflow.ErrorCode(err) == leadflow.EINTERNAL {
						return nil, apiError(s.log, err)
					}
					hidden = append(hidden, leadflow.Detail{Where: fmt.Sprintf("line %d", r.Line), Message: leadflow.ErrorMessage(err)})
					continue
				}
				visible = append(visible, r)
			}
			out := &dealImportOutput{}
			out.Body.Applied, out.Body.Rejected, err = s.deps.Flow.ImportDeals(ctx, visible, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if len(hidden) > 0 {
				out.Body.Rejected = append(out.Body.Rejected, hidden...)
				sort.SliceStable(out.Body.Rejected, func(i, j int) bool {
					return lineOf(out.Body.Rejected[i].Where) < lineOf(out.Body.Rejected[j].Where)
				})
			}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-rejection-reasons", Method: http.MethodGet, Path: "/api/v1/settings/rejection-reasons",
		Summary: "The rejection reasons sales picks from", Tags: []string{"settings"}},
		func(ctx context.Context, _ *struct{}) (*reasonsOutput, error) {
			items, err := s.deps.Flow.RejectionReasons(ctx)
			out := &reasonsOutput{}
			out.Body.Items = items
			return out, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "put-rejection-reasons", Method: http.MethodPut, Path: "/api/v1/settings/rejection-reasons",
		Summary: "Set the rejection reasons", Description: "YAML body: `reasons: [{id: no-budget, ja: 予算なし, en: No budget}, …]`.", Tags: []string{"settings"}},
		func(ctx context.Context, in *yamlInput) (*reasonsOutput, error) {
			items, err := lifecycle.ParseReasons(in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			err = s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				return tx.PutSetting(ctx, store.SettingRejectionReasons, string(in.RawBody), string(actorOf(ctx)))
			})
			out := &reasonsOutput{}
			out.Body.Items = items
			return out, apiError(s.log, err)
		})
}

// lineOf is the number of a "line N" location (0 for another).
func lineOf(where string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(where, "line "))
	return n
}
