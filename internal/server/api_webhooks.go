package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
)

type webhookCreateInput struct {
	Body struct {
		URL         string   `json:"url" minLength:"1" maxLength:"2000" doc:"http(s) URL that receives POSTs"`
		EventTypes  []string `json:"event_types,omitempty" doc:"Subscribed event types; empty or absent means every type"`
		Description string   `json:"description,omitempty" maxLength:"500"`
	}
}

type webhookCreateOutput struct {
	Body struct {
		*store.WebhookEndpoint
		Secret string `json:"secret" doc:"Signing secret (whsec_…); shown once. Verify webhook-signature with it."`
	}
}

type webhookOutput struct {
	Body *store.WebhookEndpoint
}

type webhookListOutput struct {
	Body struct {
		Items []store.WebhookEndpoint `json:"items"`
	}
}

type webhookIDInput struct {
	ID int64 `path:"id" minimum:"1" doc:"Webhook endpoint id"`
}

type webhookUpdateInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		URL         *string   `json:"url,omitempty" maxLength:"2000"`
		EventTypes  *[]string `json:"event_types,omitempty" doc:"Replaces the subscription; [] means every type"`
		Description *string   `json:"description,omitempty" maxLength:"500"`
		Active      *bool     `json:"active,omitempty" doc:"false pauses deliveries; true re-enables an endpoint (also one disabled by a 410)"`
	}
}

type webhookDeliveriesInput struct {
	ID     int64 `path:"id" minimum:"1"`
	Before int64 `query:"before" doc:"Only deliveries with a smaller id (the next page)"`
	Limit  int   `query:"limit" minimum:"0" maximum:"1000" doc:"At most this many (default 100)"`
}

type webhookDeliveriesOutput struct {
	Body struct {
		Items []store.WebhookDelivery `json:"items"`
	}
}

type deliveryIDInput struct {
	ID int64 `path:"id" minimum:"1" doc:"Delivery id"`
}

type deliveryOutput struct {
	Body *store.WebhookDelivery
}

type notificationsYAMLOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

type notificationsPutInput struct {
	RawBody []byte `contentType:"application/yaml"`
}

type testEmailInput struct {
	Body struct {
		To string `json:"to" minLength:"3" maxLength:"320" doc:"Recipient, e.g. 管理者 <admin@example.co.jp>"`
	}
}

type testEmailOutput struct {
	Body struct {
		Sent bool   `json:"sent"`
		To   string `json:"to"`
	}
}

// notificationsExample is shown while no settings are stored.
const notificationsExample = `# No notification settings are stored yet. An example (see docs/notifications.md):
# smtp: {host: smtp.example.com, port: 587, username: leadflow, password: secret,
#        from: "leadflow <leadflow@example.com>", tls: starttls}
# email_events: [lead.assigned, lead.stage_changed, sla.warning, sla.breached]
# chat: {url: "https://hooks.slack.com/services/…", events: [lead.stage_changed, sla.breached]}
# base_url: https://leadflow.example.com
`

func checkWebhook(url *string, types *[]string) error {
	if url != nil {
		*url = strings.TrimSpace(*url)
		if err := notify.CheckURL("url", *url); err != nil {
			return err
		}
	}
	if types != nil {
		if err := notify.CheckEventTypes("event_types", *types); err != nil {
			return err
		}
	}
	return nil
}

// registerWebhooks adds the webhook endpoints, their delivery log, the
// notification settings and the test email.
func (s *Server) registerWebhooks() {
	tags := []string{"notifications"}
	huma.Register(s.api, huma.Operation{OperationID: "create-webhook", Method: http.MethodPost, Path: "/api/v1/webhooks",
		Summary: "Add a webhook endpoint",
		Description: "Events are POSTed to the URL following Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature " +
			"`v1,<base64 HMAC-SHA256>`). Event types: " + strings.Join(notify.EventTypes, ", ") + ". The signing secret is returned once.",
		DefaultStatus: http.StatusCreated, Tags: tags},
		func(ctx context.Context, in *webhookCreateInput) (*webhookCreateOutput, error) {
			b := in.Body
			if err := checkWebhook(&b.URL, &b.EventTypes); err != nil {
				return nil, apiError(s.log, err)
			}
			e := &store.WebhookEndpoint{URL: b.URL, Secret: notify.NewSecret(), EventTypes: b.EventTypes, Description: b.Description}
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.CreateWebhookEndpoint(ctx, e, string(actorOf(ctx))) })
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &webhookCreateOutput{}
			out.Body.WebhookEndpoint, out.Body.Secret = e, e.Secret
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-webhooks", Method: http.MethodGet, Path: "/api/v1/webhooks",
		Summary: "Webhook endpoints", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*webhookListOutput, error) {
			items, err := s.deps.DB.WebhookEndpoints(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &webhookListOutput{}
			out.Body.Items = items
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-webhook", Method: http.MethodGet, Path: "/api/v1/webhooks/{id}",
		Summary: "One webhook endpoint", Tags: tags},
		func(ctx context.Context, in *webhookIDInput) (*webhookOutput, error) {
			e, err := s.deps.DB.WebhookEndpoint(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &webhookOutput{Body: e}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "update-webhook", Method: http.MethodPatch, Path: "/api/v1/webhooks/{id}",
		Summary:     "Change a webhook endpoint",
		Description: "Fields left out stay. `active: true` re-enables an endpoint, e.g. one disabled after it answered 410 Gone.",
		Tags:        tags},
		func(ctx context.Context, in *webhookUpdateInput) (*webhookOutput, error) {
			b := in.Body
			if err := checkWebhook(b.URL, b.EventTypes); err != nil {
				return nil, apiError(s.log, err)
			}
			var e *store.WebhookEndpoint
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) (err error) {
				e, err = tx.UpdateWebhookEndpoint(ctx, in.ID, store.WebhookEndpointUpdate{URL: b.URL, EventTypes: b.EventTypes,
					Description: b.Description, Active: b.Active}, string(actorOf(ctx)))
				return err
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &webhookOutput{Body: e}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "delete-webhook", Method: http.MethodDelete, Path: "/api/v1/webhooks/{id}",
		Summary: "Remove a webhook endpoint and its delivery log", DefaultStatus: http.StatusNoContent, Tags: tags},
		func(ctx context.Context, in *webhookIDInput) (*struct{}, error) {
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteWebhookEndpoint(ctx, in.ID, string(actorOf(ctx))) })
			return nil, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-webhook-deliveries", Method: http.MethodGet, Path: "/api/v1/webhooks/{id}/deliveries",
		Summary:     "An endpoint's delivery log, newest first",
		Description: "Status (pending, delivered, failed, gone), attempts, and the response code, body (truncated) and error of the latest attempt.",
		Tags:        tags},
		func(ctx context.Context, in *webhookDeliveriesInput) (*webhookDeliveriesOutput, error) {
			if _, err := s.deps.DB.WebhookEndpoint(ctx, in.ID); err != nil {
				return nil, apiError(s.log, err)
			}
			items, err := s.deps.DB.WebhookDeliveries(ctx, in.ID, in.Before, in.Limit)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &webhookDeliveriesOutput{}
			out.Body.Items = items
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "redeliver-webhook", Method: http.MethodPost, Path: "/api/v1/webhooks/deliveries/{id}/redeliver",
		Summary:       "Send a delivery again",
		Description:   "Queues the same message (same webhook-id and payload, new timestamp and signature). The endpoint must be active.",
		DefaultStatus: http.StatusAccepted, Tags: tags},
		func(ctx context.Context, in *deliveryIDInput) (*deliveryOutput, error) {
			d, err := s.deps.Notifier.Redeliver(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &deliveryOutput{Body: d}, nil
		})

	huma.Register(s.api, huma.Operation{OperationID: "get-notification-settings", Method: http.MethodGet, Path: "/api/v1/settings/notifications",
		Summary:     "The notification settings (YAML)",
		Description: "SMTP server, emailed event types, chat webhook and base URL. The SMTP password and the chat URL's path are masked; send the mask back to keep them.",
		Tags:        []string{"settings"}},
		func(ctx context.Context, _ *struct{}) (*notificationsYAMLOutput, error) {
			st, err := s.deps.DB.Setting(ctx, store.SettingNotifications)
			if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
				return &notificationsYAMLOutput{ContentType: "application/yaml; charset=utf-8", Body: []byte(notificationsExample)}, nil
			} else if err != nil {
				return nil, apiError(s.log, err)
			}
			masked, err := notify.MaskSettings([]byte(st.Value))
			if err != nil {
				return nil, apiError(s.log, leadflow.Internal(err, "stored notification settings"))
			}
			return &notificationsYAMLOutput{ContentType: "application/yaml; charset=utf-8", Body: masked}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "put-notification-settings", Method: http.MethodPut, Path: "/api/v1/settings/notifications",
		Summary:     "Set the notification settings",
		Description: "YAML body (see docs/notifications.md). Invalid settings are refused with a 400 and change nothing. Returns the stored document, masked.",
		Tags:        []string{"settings"}},
		func(ctx context.Context, in *notificationsPutInput) (*notificationsYAMLOutput, error) {
			var masked []byte
			err := s.deps.DB.InTx(ctx, func(tx *store.Tx) error {
				var stored []byte
				if st, err := tx.Setting(ctx, store.SettingNotifications); err == nil {
					stored = []byte(st.Value)
				} else if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
					return err
				}
				doc, err := notify.UnmaskSettings(in.RawBody, stored)
				if err != nil {
					return err
				}
				if masked, err = notify.MaskSettings(doc); err != nil {
					return err
				}
				return tx.PutSetting(ctx, store.SettingNotifications, string(doc), string(actorOf(ctx)))
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &notificationsYAMLOutput{ContentType: "application/yaml; charset=utf-8", Body: masked}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "send-test-email", Method: http.MethodPost, Path: "/api/v1/notifications/test-email",
		Summary:     "Send a test email",
		Description: "Sends a sample handoff email through the configured SMTP server at once; a 503 problem says why it failed.",
		Tags:        tags},
		func(ctx context.Context, in *testEmailInput) (*testEmailOutput, error) {
			if err := s.deps.Notifier.SendTestEmail(ctx, in.Body.To); err != nil {
				if leadflow.ErrorCode(err) == leadflow.EUNAVAILABLE {
					s.log.Warn("test email failed", "err", err)
				}
				return nil, apiError(s.log, err)
			}
			out := &testEmailOutput{}
			out.Body.Sent, out.Body.To = true, in.Body.To
			return out, nil
		})
}
