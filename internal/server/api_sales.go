package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	User string `json:"user,omitempty" doc:"The salesperson acting (user name); recorded as the cause. Defaults to the API key."`
	Note string `json:"note,omitempty" maxLength:"2000"`
}

func (s *Server) salesActor(ctx context.Context, user string) flow.Actor {
	if user != "" {
		return flow.Actor("user:" + user)
	}
	return actorOf(ctx)
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
		At         *time.Time `json:"at,omitempty"`
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
			return s.deps.Flow.Accept(ctx, in.ID, in.Body.Note, s.salesActor(ctx, in.Body.User))
		})
	action("qualify-lead", "/api/v1/leads/{id}/qualify", "Qualify a lead (SQL)", "Sales confirms the need: the lead becomes an SQL.",
		func(ctx context.Context, in *salesInput) (*leadflow.Lead, error) {
			return s.deps.Flow.Qualify(ctx, in.ID, in.Body.Note, s.salesActor(ctx, in.Body.User))
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
			return s.deps.Flow.Reject(ctx, in.ID, in.Body.Reason, in.Body.Note, s.salesActor(ctx, in.Body.User))
		})
	reasonAction("disqualify-lead", "/api/v1/leads/{id}/disqualify", "Disqualify a lead", "Junk, competitor, student, duplicate: the lead leaves the funnel.",
		func(ctx context.Context, in *reasonInput) (*leadflow.Lead, error) {
			return s.deps.Flow.Disqualify(ctx, in.ID, in.Body.Reason, in.Body.Note, s.salesActor(ctx, in.Body.User))
		})
	huma.Register(s.api, huma.Operation{OperationID: "log-touch", Method: http.MethodPost, Path: "/api/v1/leads/{id}/touches",
		Summary: "Log a touch", Description: "A call, email or meeting; the first touch stops the lead's first-touch SLA clock.",
		DefaultStatus: http.StatusCreated, Tags: tags},
		func(ctx context.Context, in *touchInput) (*touchOutput, error) {
			t := store.Touch{Kind: in.Body.Kind, Outcome: in.Body.Outcome, Note: in.Body.Note}
			if in.Body.At != nil {
				t.At = in.Body.At.UTC()
			}
			out, err := s.deps.Flow.LogTouch(ctx, in.ID, t, s.salesActor(ctx, in.Body.User))
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
			}
			deal, lead, err := s.deps.Flow.UpdateDeal(ctx, d, actorOf(ctx))
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
			deals, rejected, err := parseDeals(in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &dealImportOutput{}
			out.Body.Rejected = rejected
			if len(rejected) > 0 {
				return nil, apiError(s.log, &leadflow.Error{Code: leadflow.EINVALID, Message: fmt.Sprintf("%d rows are invalid; nothing was applied", len(rejected)), Details: rejected})
			}
			for _, d := range deals {
				if _, _, err := s.deps.Flow.UpdateDeal(ctx, d.deal, actorOf(ctx)); err != nil {
					var e *leadflow.Error
					if errors.As(err, &e) && e.Code != leadflow.EINTERNAL {
						out.Body.Rejected = append(out.Body.Rejected, leadflow.Detail{Where: fmt.Sprintf("line %d", d.line), Message: leadflow.ErrorMessage(err)})
						continue
					}
					return nil, apiError(s.log, err)
				}
				out.Body.Applied++
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

type dealRow struct {
	line int
	deal flow.Deal
}

// parseDeals reads a deals CSV (UTF-8, BOM allowed) and checks every row.
func parseDeals(body []byte) ([]dealRow, []leadflow.Detail, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(body))
	header, err := r.Read()
	if err != nil {
		return nil, nil, leadflow.Invalidf("line 1", "no header row: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["external_id"]; !ok {
		return nil, nil, leadflow.Invalidf("line 1", "no external_id column (columns: external_id, email or lead_id, status, amount, currency, name, reason, at)")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []dealRow
	var rejected []leadflow.Detail
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return nil, nil, leadflow.Invalidf(fmt.Sprintf("line %d", line), "malformed CSV: %v", err)
		}
		where := fmt.Sprintf("line %d", line)
		d := flow.Deal{Email: get(rec, "email"), Deal: store.Deal{ExternalID: get(rec, "external_id"), Status: strings.ToLower(get(rec, "status")),
			Currency: get(rec, "currency"), Name: get(rec, "name"), Reason: get(rec, "reason")}}
		bad := func(msg string) { rejected = append(rejected, leadflow.Detail{Where: where, Message: msg}) }
		if v := get(rec, "lead_id"); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				bad(fmt.Sprintf("lead_id %q is not a lead id", v))
				continue
			}
			d.LeadID = id
		}
		if d.LeadID == 0 && d.Email == "" {
			bad("give email or lead_id")
			continue
		}
		if d.ExternalID == "" {
			bad("external_id is empty")
			continue
		}
		switch d.Status {
		case store.DealOpen, store.DealWon, store.DealLost:
		default:
			bad(fmt.Sprintf("status %q: use open, won or lost", d.Status))
			continue
		}
		if v := strings.ReplaceAll(get(rec, "amount"), ",", ""); v != "" {
			a, err := strconv.ParseFloat(v, 64)
			if err != nil || a < 0 {
				bad(fmt.Sprintf("amount %q is not a non-negative number", v))
				continue
			}
			d.Amount = a
		}
		if v := get(rec, "at"); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if t, err = time.Parse("2006-01-02", v); err != nil {
					bad(fmt.Sprintf("at %q is not a date", v))
					continue
				}
			}
			d.At = t.UTC()
		}
		out = append(out, dealRow{line: line, deal: d})
	}
	return out, rejected, nil
}
