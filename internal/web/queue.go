package web

import (
	"net/http"
	"time"

	"github.com/leadflow/leadflow/internal/store"
)

type queueView struct {
	Items []store.QueueItem
	Now   time.Time
}

// queue is the rep's working list: their open leads by SLA deadline, then
// stage, then score.
func (h *handler) queue(w http.ResponseWriter, r *http.Request) {
	items, err := h.deps.DB.Queue(r.Context(), userOf(r.Context()).UserName)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "queue", "queue.title", queueView{Items: items, Now: h.now()})
}
