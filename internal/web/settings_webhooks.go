package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
)

// createWebhook adds an endpoint (validated as the API validates it) and
// shows its signing secret once.
func (h *handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := strings.TrimSpace(r.PostFormValue("url"))
	_ = r.ParseForm()
	types := []string{}
	for _, t := range r.PostForm["event_types"] {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	e := &store.WebhookEndpoint{URL: u, Secret: notify.NewSecret(), EventTypes: types,
		Description: strings.TrimSpace(r.PostFormValue("description"))}
	err := notify.CheckURL("url", u)
	if err == nil {
		err = notify.CheckEventTypes("event_types", types)
	}
	if err == nil {
		err = h.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.CreateWebhookEndpoint(ctx, e, string(actor(userOf(ctx)))) })
	}
	switch leadflow.ErrorCode(err) {
	case "":
		w.Header().Set("Cache-Control", "no-store")
		h.showWebhooks(w, r, http.StatusCreated, webhooksView{Secret: e.Secret, SecretURL: e.URL})
	case leadflow.EINTERNAL:
		h.serverError(w, r, err)
	default:
		h.showWebhooks(w, r, statusOf(err), webhooksView{Error: leadflow.ErrorMessage(err),
			Form: map[string]string{"url": u, "description": e.Description}})
	}
}

// webhookAction disables or re-enables (active=0/1) or deletes an endpoint.
func (h *handler) webhookAction(del bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			h.fail(w, r, leadflow.Errorf(leadflow.ENOTFOUND, "no webhook endpoint %q", r.PathValue("id")))
			return
		}
		by := string(actor(userOf(ctx)))
		err = h.deps.DB.InTx(ctx, func(tx *store.Tx) error {
			if del {
				return tx.DeleteWebhookEndpoint(ctx, id, by)
			}
			active := r.PostFormValue("active") == "1"
			_, err := tx.UpdateWebhookEndpoint(ctx, id, store.WebhookEndpointUpdate{Active: &active}, by)
			return err
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/settings/webhooks", http.StatusSeeOther)
	}
}
