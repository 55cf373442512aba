package server

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/store"
)

// bouncesInput is one bounce (the fields at the top level) or a batch
// ("bounces"), not both.
type bouncesInput struct {
	Body struct {
		Email     string                 `json:"email,omitempty" maxLength:"320" doc:"The address that bounced (single bounce)"`
		MessageID string                 `json:"message_id,omitempty" maxLength:"998" doc:"Message-ID of the nurture email that bounced"`
		Type      string                 `json:"type,omitempty" doc:"hard or soft"`
		Reason    string                 `json:"reason,omitempty" maxLength:"2000" doc:"e.g. 550 5.1.1 user unknown"`
		At        time.Time              `json:"at,omitzero" doc:"When it bounced (RFC 3339); default now"`
		Bounces   []nurture.BounceReport `json:"bounces,omitempty" maxItems:"1000" doc:"A batch of bounces instead of one"`
	}
}

type bouncesOutput struct {
	Body struct {
		Items []nurture.BounceResult `json:"items"`
	}
}

// registerNurtureBounces adds the asynchronous bounce API and the sends of
// an enrolment.
func (s *Server) registerNurtureBounces(tags []string) {
	huma.Register(s.api, huma.Operation{OperationID: "report-nurture-bounces", Method: http.MethodPost, Path: "/api/v1/nurture/bounces",
		Summary: "Report bounces that arrived after sending (DSNs, the mail provider's webhook)",
		Description: "One bounce `{\"email\":…|\"message_id\":…, \"type\":\"hard\"|\"soft\", \"reason\":…, \"at\":…}` or a batch " +
			"`{\"bounces\":[…]}` (at most 1000). A hard bounce suppresses the address and ends the lead's enrolments (exit " +
			"reason bounced); soft bounces suppress once the nurture settings' soft_limit is reached within soft_window_days. " +
			"Each bounce records an `Email Bounced` event for the lead. A bounce reported twice counts once.",
		Tags: tags},
		func(ctx context.Context, in *bouncesInput) (*bouncesOutput, error) {
			b := in.Body
			single := b.Email != "" || b.MessageID != "" || b.Type != "" || b.Reason != "" || !b.At.IsZero()
			if single && len(b.Bounces) > 0 {
				return nil, apiError(s.log, leadflow.Invalidf("bounces", "give one bounce or a batch in \"bounces\", not both"))
			}
			var items []nurture.BounceReport
			where := ""
			switch {
			case len(b.Bounces) > 0:
				items, where = b.Bounces, "bounces"
			case single:
				items = []nurture.BounceReport{{Email: b.Email, MessageID: b.MessageID, Type: b.Type, Reason: b.Reason, At: b.At}}
			}
			if err := nurture.CheckBounces(items, where, s.deps.DB.Now()); err != nil {
				return nil, apiError(s.log, err)
			}
			out := &bouncesOutput{}
			out.Body.Items = make([]nurture.BounceResult, 0, len(items))
			for _, it := range items {
				res, err := s.deps.Flow.NurtureBounce(ctx, it)
				if err != nil {
					return nil, apiError(s.log, err)
				}
				out.Body.Items = append(out.Body.Items, *res)
			}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "enrolment-sends", Method: http.MethodGet, Path: "/api/v1/nurture/enrolments/{id}/sends",
		Summary: "The emails of an enrolment", Description: "Per email step: status (pending, sent, skipped), attempts and the last SMTP error, opens, clicks and bounces.",
		Tags: tags},
		func(ctx context.Context, in *sequenceIDInput) (*struct {
			Body struct {
				Items []store.Send `json:"items"`
			}
		}, error) {
			if _, err := s.deps.DB.Enrolment(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			if err := s.checkEnrolment(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			sends, err := s.deps.DB.SendsOfEnrolment(ctx, in.ID)
			out := &struct {
				Body struct {
					Items []store.Send `json:"items"`
				}
			}{}
			out.Body.Items = sends
			return out, apiError(s.log, err)
		})
}
