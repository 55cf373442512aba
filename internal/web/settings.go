package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/notify"
	"github.com/leadflow/leadflow/internal/store"
)

type settingsView struct {
	Routing, SLA *store.Setting
	Reasons      []lifecycle.Reason
}

// settings shows the settings documents as they are stored. Editing them
// in the UI is still being built; the API and CLI change them today.
func (h *handler) settings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := settingsView{}
	var err error
	for _, s := range []struct {
		key string
		dst **store.Setting
	}{{store.SettingRouting, &v.Routing}, {store.SettingSLA, &v.SLA}} {
		*s.dst, err = h.deps.DB.Setting(ctx, s.key)
		if err != nil && leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			h.fail(w, r, err)
			return
		}
	}
	if v.Reasons, err = h.deps.Flow.RejectionReasons(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "settings", "settings.title", v)
}

type usersView struct {
	Users   []store.User
	Teams   []store.Team
	Roles   []auth.Role
	Created string
	// Done is what the last team or user change did (a catalog key
	// suffix), Name what it changed.
	Done, Name string
	Error      string
	Form       map[string]string
}

func (h *handler) settingsUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := usersView{Created: q.Get("created"), Name: q.Get("name")}
	switch d := q.Get("done"); d {
	case "team_created", "team_updated", "user_updated":
		v.Done = d
	}
	h.showUsers(w, r, http.StatusOK, v)
}

func (h *handler) showUsers(w http.ResponseWriter, r *http.Request, status int, v usersView) {
	var err error
	if v.Users, err = h.deps.DB.Users(r.Context(), store.UserFilter{}); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Teams, err = h.deps.DB.Teams(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	v.Roles = auth.Roles
	h.render(w, r, status, "settings_users", "settings.users", v)
}

// createUser creates a user who can log in with the given password.
func (h *handler) createUser(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{}
	for _, k := range []string{"name", "display_name", "email", "role", "team"} {
		form[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	u := &store.User{Name: form["name"], DisplayName: form["display_name"], Email: form["email"], Role: form["role"], Team: form["team"]}
	err := CreateUser(r.Context(), h.deps.DB, u, r.PostFormValue("password"), string(actor(userOf(r.Context()))))
	if err != nil {
		if leadflow.ErrorCode(err) == leadflow.EINTERNAL {
			h.serverError(w, r, err)
			return
		}
		h.showUsers(w, r, statusOf(err), usersView{Error: leadflow.ErrorMessage(err), Form: form})
		return
	}
	http.Redirect(w, r, "/settings/users?created="+u.Name, http.StatusSeeOther)
}

// CreateUser stores a user with a password (hashed with argon2id) in one
// transaction; `leadflow user create` and the users page both use it.
func CreateUser(ctx context.Context, db *store.DB, u *store.User, password, by string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u, by); err != nil {
			return err
		}
		return tx.SetPassword(ctx, u.Name, hash, by)
	})
}

// SetPassword replaces a user's password and ends their sessions.
func SetPassword(ctx context.Context, db *store.DB, name, password, by string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *store.Tx) error { return tx.SetPassword(ctx, name, hash, by) })
}

// Bootstrap creates the first admin when no active admin can log in yet:
// user "admin" (or the existing user of that name, given the admin role
// and a new password). It returns the name and the generated password,
// to be shown once; "" when there was nothing to do.
func Bootstrap(ctx context.Context, db *store.DB) (name, password string, err error) {
	password = auth.NewPassword()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return "", "", err
	}
	name = "admin"
	created := false
	err = db.InTx(ctx, func(tx *store.Tx) error {
		n, err := tx.CountAdminsWithPassword(ctx)
		if err != nil || n > 0 {
			return err
		}
		created = true
		switch _, err := tx.FindUser(ctx, name); leadflow.ErrorCode(err) {
		case leadflow.ENOTFOUND:
			if err := tx.CreateUser(ctx, &store.User{Name: name, DisplayName: "Administrator", Role: store.RoleAdmin}, "system"); err != nil {
				return err
			}
		case "":
			role, active := store.RoleAdmin, true
			if _, err := tx.UpdateUser(ctx, name, store.UserUpdate{Role: &role, Active: &active}, "system"); err != nil {
				return err
			}
		default:
			return err
		}
		return tx.SetPassword(ctx, name, hash, "system")
	})
	if err != nil || !created {
		return "", "", err
	}
	return name, password, nil
}

type webhooksView struct {
	Endpoints  []store.WebhookEndpoint
	Deliveries map[int64][]store.WebhookDelivery
	EventTypes []string
	// Secret is the signing secret of the endpoint just created (SecretURL),
	// shown once.
	Secret, SecretURL string
	Error             string
	Form              map[string]string
}

func (h *handler) settingsWebhooks(w http.ResponseWriter, r *http.Request) {
	h.showWebhooks(w, r, http.StatusOK, webhooksView{})
}

func (h *handler) showWebhooks(w http.ResponseWriter, r *http.Request, status int, v webhooksView) {
	eps, err := h.deps.DB.WebhookEndpoints(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Endpoints, v.Deliveries, v.EventTypes = eps, map[int64][]store.WebhookDelivery{}, notify.EventTypes
	for _, e := range eps {
		if v.Deliveries[e.ID], err = h.deps.DB.WebhookDeliveries(r.Context(), e.ID, 0, 10); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.render(w, r, status, "settings_webhooks", "settings.webhooks", v)
}
