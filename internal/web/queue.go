package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/store"
)

type queueView struct {
	Items []store.QueueItem
	Tasks []store.Task // the rep's open nurture call and follow-up tasks
	Now   time.Time
	Flash *flash
}

// queue is the rep's working list: their open leads by SLA deadline, then
// stage, then score; and their open nurture tasks by due time.
func (h *handler) queue(w http.ResponseWriter, r *http.Request) {
	h.showQueue(w, r, http.StatusOK, nil)
}

func (h *handler) showQueue(w http.ResponseWriter, r *http.Request, status int, fl *flash) {
	ctx, me := r.Context(), userOf(r.Context()).UserName
	items, err := h.deps.DB.Queue(ctx, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tasks, err := h.deps.DB.OpenTasks(ctx, me, 100)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, status, "queue", "queue.title", queueView{Items: items, Tasks: tasks, Now: h.now(), Flash: fl})
}

// completeTask closes one of the rep's nurture tasks with its outcome,
// logging the touch (POST /queue/tasks/{id}/complete), then shows the queue.
func (h *handler) completeTask(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, r, leadflow.Invalidf("id", "%q is not a task id", r.PathValue("id")))
		return
	}
	u := userOf(r.Context())
	outcome := strings.TrimSpace(r.PostFormValue("outcome"))
	if outcome == "" {
		err = leadflow.Invalidf("outcome", "say how the call went")
	} else if t, terr := h.deps.DB.Task(r.Context(), id); terr != nil {
		err = terr
	} else if t.Owner != u.UserName && !auth.Can(auth.Role(u.Role), auth.ReassignLeads) {
		err = leadflow.Errorf(leadflow.EFORBIDDEN, "task %d belongs to %s", id, t.Owner)
	} else {
		_, _, err = h.deps.Flow.CompleteNurtureTask(r.Context(), id, outcome, strings.TrimSpace(r.PostFormValue("note")), actor(u))
	}
	if err != nil {
		if leadflow.ErrorCode(err) == leadflow.EINTERNAL {
			h.serverError(w, r, err)
			return
		}
		h.showQueue(w, r, statusOf(err), &flash{Kind: "error", Text: flowError(h.locale(r), actTouch, "", err)})
		return
	}
	http.Redirect(w, r, "/queue?done=task", http.StatusSeeOther)
}
