package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/store"
)

type keysView struct {
	APIKeys []store.APIKey
	Sources []store.Source
	Roles   []auth.Role
	Users   []store.User // active users a key may act for
	// NewKey is a key just created, shown this once (never stored).
	NewKey, NewKind, NewName string
	Revoked                  bool
	Error                    string
	Form                     map[string]string
}

func (h *handler) settingsKeys(w http.ResponseWriter, r *http.Request) {
	h.showKeys(w, r, http.StatusOK, keysView{Revoked: r.URL.Query().Has("revoked")})
}

func (h *handler) showKeys(w http.ResponseWriter, r *http.Request, status int, v keysView) {
	var err error
	if v.APIKeys, err = h.deps.DB.APIKeys(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Sources, err = h.deps.DB.Sources(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Users, err = h.deps.DB.Users(r.Context(), store.UserFilter{Active: ptr(true)}); err != nil {
		h.fail(w, r, err)
		return
	}
	v.Roles = auth.Roles
	h.render(w, r, status, "settings_keys", "settings.keys", v)
}

// createKey creates an API key with a role (kind=api) or a write key
// (kind=write) and shows it once, in the response to this POST: it is not
// stored, so a reload cannot show it again.
func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	form := map[string]string{"kind": r.PostFormValue("kind"), "name": strings.TrimSpace(r.PostFormValue("name")),
		"role": r.PostFormValue("role"), "user": r.PostFormValue("user")}
	by := string(actor(userOf(ctx)))
	var key string
	err := h.deps.DB.InTx(ctx, func(tx *store.Tx) error {
		switch form["kind"] {
		case "api":
			k, s, err := tx.CreateAPIKeyFor(ctx, store.NewAPIKey{Name: form["name"], Role: form["role"], User: form["user"]})
			if err != nil {
				return err
			}
			key = s
			detail := k.Name + " (" + k.Role + ")"
			if k.User != "" {
				detail = k.Name + " (" + k.Role + ", user " + k.User + ")"
			}
			return tx.Audit(ctx, by, "apikey.create", "api_key", k.ID, detail)
		case "write":
			src, s, err := tx.CreateSource(ctx, form["name"])
			if err != nil {
				return err
			}
			key = s
			return tx.Audit(ctx, by, "source.create", "source", src.ID, src.Name)
		}
		return leadflow.Invalidf("kind", "kind is api or write, not %q", form["kind"])
	})
	if err != nil {
		if leadflow.ErrorCode(err) == leadflow.EINTERNAL {
			h.serverError(w, r, err)
			return
		}
		h.showKeys(w, r, statusOf(err), keysView{Error: leadflow.ErrorMessage(err), Form: form})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.showKeys(w, r, http.StatusCreated, keysView{NewKey: key, NewKind: form["kind"], NewName: form["name"]})
}

// revokeKey revokes an API key ({kind} api) or a write key ({kind} write).
func (h *handler) revokeKey(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			h.fail(w, r, leadflow.Errorf(leadflow.ENOTFOUND, "no key %q", r.PathValue("id")))
			return
		}
		by := string(actor(userOf(ctx)))
		err = h.deps.DB.InTx(ctx, func(tx *store.Tx) error {
			if kind == "api" {
				if err := tx.RevokeAPIKey(ctx, id); err != nil {
					return err
				}
				return tx.Audit(ctx, by, "apikey.revoke", "api_key", id, "")
			}
			if err := tx.RevokeSource(ctx, id); err != nil {
				return err
			}
			return tx.Audit(ctx, by, "source.revoke", "source", id, "")
		})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/settings/keys?revoked=1", http.StatusSeeOther)
	}
}
