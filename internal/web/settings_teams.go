package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/store"
)

// createTeam creates a team with an optional manager.
func (h *handler) createTeam(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	t := &store.Team{Name: strings.TrimSpace(r.PostFormValue("team_name")), Manager: strings.TrimSpace(r.PostFormValue("manager"))}
	err := h.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.CreateTeam(ctx, t, string(actor(userOf(ctx)))) })
	h.afterTeams(w, r, err, "team_created", t.Name)
}

// updateTeam changes a team's manager ("" for none).
func (h *handler) updateTeam(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	mgr := strings.TrimSpace(r.PostFormValue("manager"))
	err := h.deps.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.UpdateTeam(ctx, r.PathValue("name"), store.TeamUpdate{Manager: &mgr}, string(actor(userOf(ctx))))
		return err
	})
	h.afterTeams(w, r, err, "team_updated", r.PathValue("name"))
}

// updateUser puts a user in a team ("" takes them out of any), changes
// their role or (de)activates them: whichever fields the form sends.
func (h *handler) updateUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var up store.UserUpdate
	if r.PostForm == nil {
		_ = r.ParseForm()
	}
	if _, ok := r.PostForm["team"]; ok {
		team := strings.TrimSpace(r.PostFormValue("team"))
		up.Team = &team
	}
	if role := r.PostFormValue("role"); role != "" {
		up.Role = &role
	}
	if a := r.PostFormValue("active"); a != "" {
		active := a == "1"
		up.Active = &active
	}
	err := h.deps.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.UpdateUser(ctx, r.PathValue("name"), up, string(actor(userOf(ctx))))
		return err
	})
	h.afterTeams(w, r, err, "user_updated", r.PathValue("name"))
}

// afterTeams redirects to the users page with a message, or shows the
// page again with the error (nothing changed).
func (h *handler) afterTeams(w http.ResponseWriter, r *http.Request, err error, done, name string) {
	switch leadflow.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/settings/users?done="+done+"&name="+url.QueryEscape(name), http.StatusSeeOther)
	case leadflow.EINTERNAL:
		h.serverError(w, r, err)
	default:
		h.showUsers(w, r, statusOf(err), usersView{Error: leadflow.ErrorMessage(err)})
	}
}
