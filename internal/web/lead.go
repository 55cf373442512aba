package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/store"
)

type leadView struct {
	*flow.Handoff
	Events  []leadflow.Event
	Reasons []lifecycle.Reason
	Users   []store.User
	Flash   *flash
	// What the lead's stage allows.
	CanAccept, CanReject, CanQualify, CanDisqualify, CanRecycle bool
	ScoreText                                                   string
}

// flash is a one-line message above the page.
type flash struct {
	Kind, Text string // Kind: ok or error
}

func leadID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, leadflow.Errorf(leadflow.ENOTFOUND, "no lead %q", r.PathValue("id"))
	}
	return id, nil
}

func (h *handler) lead(w http.ResponseWriter, r *http.Request) {
	id, err := leadID(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var fl *flash
	if done := r.URL.Query().Get("done"); done != "" && slices.Contains(actionNames, done) {
		fl = &flash{Kind: "ok", Text: h.locale(r).T("done." + done)}
	}
	h.showLead(w, r, id, http.StatusOK, fl)
}

// showLead renders the lead page with an optional flash (an action's error
// is shown there, with the status of the error).
func (h *handler) showLead(w http.ResponseWriter, r *http.Request, id int64, status int, fl *flash) {
	ctx := r.Context()
	if err := h.checkLeadScope(ctx, id); err != nil {
		h.fail(w, r, err)
		return
	}
	ho, err := h.deps.Flow.Handoff(ctx, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := leadView{Handoff: ho, Flash: fl}
	if v.Events, _, err = h.deps.DB.Timeline(ctx, id, "", 50); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Reasons, err = h.deps.Flow.RejectionReasons(ctx); err != nil {
		h.fail(w, r, err)
		return
	}
	u := userOf(ctx)
	if can(u, "leads.assign") {
		if v.Users, err = h.deps.DB.Users(ctx, store.UserFilter{Active: ptr(true)}); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if ho.Score != nil {
		v.ScoreText = ho.Score.Explanation.Text(h.locale(r).Lang)
	}
	s := ho.Lead.Stage
	v.CanAccept = s == leadflow.StageMQL
	v.CanReject = slices.Contains(openStages, s)
	v.CanQualify = lifecycle.CanMove(s, leadflow.StageSQL, true) == nil
	v.CanDisqualify = lifecycle.CanMove(s, leadflow.StageDisqualified, true) == nil
	v.CanRecycle = lifecycle.CanMove(s, leadflow.StageRecycled, true) == nil
	title := ho.Lead.Name
	if title == "" {
		title = ho.Lead.Email
	}
	h.renderTitled(w, r, status, "lead", title, v)
}

func ptr[T any](v T) *T { return &v }

// The sales actions of the lead page.
const (
	actAccept     = "accept"
	actReject     = "reject"
	actQualify    = "qualify"
	actDisqualify = "disqualify"
	actRecycle    = "recycle"
	actTouch      = "touch"
	actBANT       = "bant"
	actReassign   = "reassign"
)

var actionNames = []string{actAccept, actReject, actQualify, actDisqualify, actRecycle, actTouch, actBANT, actReassign}

// leadAction runs one sales action through the flow (the same methods the
// API calls), then redirects to the lead page (POST-redirect-GET) or, on
// an error, shows the page again with the error.
func (h *handler) leadAction(act string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := leadID(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		ctx, u := r.Context(), userOf(r.Context())
		if err := h.checkLeadScope(ctx, id); err != nil {
			h.fail(w, r, err)
			return
		}
		a := actor(u)
		note := strings.TrimSpace(r.PostFormValue("note"))
		f := h.deps.Flow
		switch act {
		case actAccept:
			_, err = f.Accept(ctx, id, note, a)
		case actReject:
			_, err = f.Reject(ctx, id, r.PostFormValue("reason"), note, a)
		case actQualify:
			_, err = f.Qualify(ctx, id, note, a)
		case actDisqualify:
			_, err = f.Disqualify(ctx, id, r.PostFormValue("reason"), note, a)
		case actRecycle:
			if note == "" {
				err = leadflow.Invalidf("note", "say why the lead goes back to nurture")
			} else {
				_, err = f.MoveLead(ctx, id, leadflow.StageRecycled, note, a)
			}
		case actTouch:
			_, err = f.LogTouch(ctx, id, store.Touch{Kind: r.PostFormValue("kind"),
				Outcome: strings.TrimSpace(r.PostFormValue("outcome")), Note: note}, a)
		case actBANT:
			var b leadflow.BANT
			if b, err = h.parseBANT(r); err == nil {
				_, err = f.UpdateLead(ctx, id, leadflow.LeadPatch{BANT: &b}, a)
			}
		case actReassign:
			_, err = f.Reassign(ctx, id, r.PostFormValue("owner"), a)
		}
		if err != nil {
			if leadflow.ErrorCode(err) == leadflow.EINTERNAL {
				h.serverError(w, r, err)
				return
			}
			var stage leadflow.Stage
			if l, ferr := h.deps.DB.FindLead(ctx, id); ferr == nil {
				stage = l.Stage
			}
			h.showLead(w, r, id, statusOf(err), &flash{Kind: "error", Text: flowError(h.locale(r), act, stage, err)})
			return
		}
		http.Redirect(w, r, "/leads/"+strconv.FormatInt(id, 10)+"?done="+act, http.StatusSeeOther)
	}
}

// parseBANT reads the BANT form; the timeline is a date in the company's
// time zone.
func (h *handler) parseBANT(r *http.Request) (leadflow.BANT, error) {
	b := leadflow.BANT{Budget: r.PostFormValue("budget") != "", Authority: r.PostFormValue("authority") != "",
		Need: r.PostFormValue("need") != ""}
	if s := strings.TrimSpace(r.PostFormValue("timeline")); s != "" {
		t, err := time.ParseInLocation(time.DateOnly, s, h.deps.Location)
		if err != nil {
			return b, leadflow.Invalidf("timeline", "%q is not a date (YYYY-MM-DD)", s)
		}
		t = t.UTC()
		b.Timeline = &t
	}
	return b, nil
}
