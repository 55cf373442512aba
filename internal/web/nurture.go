package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/store"
)

// maxSequenceSize bounds a sequence posted from the editor.
const maxSequenceSize = 1 << 20

// sequenceExample is what the editor of a new sequence starts from.
const sequenceExample = `name: example
enrol:
  stages: [recycled]
templates:
  hello:
    subject: "{{.Lead.Name}} 様: ご案内"
    text: |
      {{.Lead.Name}} 様
      配信停止: {{.UnsubscribeURL}}
steps:
  - id: first
    email: hello
  - wait: 3 business days
`

// seqRow is one sequence with its report totals.
type seqRow struct {
	store.Sequence
	Steps  int
	Totals store.StepCounts
	// Enrolled is how many leads entered the sequence.
	Enrolled int
}

type stepRow struct {
	store.StepCounts
	ID, Kind, Template string
}

type nurtureView struct {
	Sequences []seqRow
	Seq       *seqRow
	Steps     []stepRow
	Templates []string
	Source    string
	Lines     []srcLine
	Problems  []leadflow.Detail
	// Flash is a catalog key (nurture.saved, …) with its argument.
	Flash, FlashArg string
	Error           string
	To              string
}

// nurtureService is the service whose test sends the UI makes: the one of
// Deps, or one of the UI's own sharing the database.
func (h *handler) nurtureService() *nurture.Service {
	h.nurtureOnce.Do(func() {
		h.nurture = h.deps.Nurture
		if h.nurture == nil {
			h.nurture = nurture.New(h.deps.DB, h.deps.Flow.NurtureSequences(), nurture.Options{Logger: h.log, Now: h.deps.Now})
			h.nurture.SetRecorder(h.deps.Flow)
		}
	})
	return h.nurture
}

func (h *handler) sequenceRow(r *http.Request, s store.Sequence) (seqRow, []stepRow, error) {
	row := seqRow{Sequence: s}
	seq, err := nurture.Parse(s.Name+".yaml", []byte(s.Source))
	if err != nil {
		return row, nil, leadflow.Internal(err, "stored sequence "+s.Name)
	}
	row.Steps = len(seq.Steps)
	counts, err := h.deps.DB.SequenceCounts(r.Context(), s.ID, len(seq.Steps))
	if err != nil {
		return row, nil, err
	}
	steps := make([]stepRow, len(counts))
	for i, c := range counts {
		steps[i] = stepRow{StepCounts: c}
		if i < len(seq.Steps) {
			steps[i].ID, steps[i].Kind, steps[i].Template = seq.Steps[i].ID, seq.Steps[i].Kind, seq.Steps[i].Template
		}
		t := &row.Totals
		t.Sent, t.Opened, t.Clicked = t.Sent+c.Sent, t.Opened+c.Opened, t.Clicked+c.Clicked
		t.Unsubscribed, t.Converted, t.Exited, t.Bounced = t.Unsubscribed+c.Unsubscribed, t.Converted+c.Converted, t.Exited+c.Exited, t.Bounced+c.Bounced
		t.Active, t.Completed = t.Active+c.Active, t.Completed+c.Completed
	}
	if len(counts) > 0 {
		row.Enrolled = counts[0].Reached
	}
	return row, steps, nil
}

// nurtureList lists the sequences with their numbers, and the editor of a
// new one for those who may write.
func (h *handler) nurtureList(w http.ResponseWriter, r *http.Request) {
	v := nurtureView{Source: sequenceExample}
	if q := r.URL.Query(); q.Has("saved") {
		v.Flash, v.FlashArg = "nurture.saved", q.Get("saved")
	}
	h.showNurtureList(w, r, http.StatusOK, v)
}

func (h *handler) showNurtureList(w http.ResponseWriter, r *http.Request, status int, v nurtureView) {
	rows, err := h.deps.DB.Sequences(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, s := range rows {
		row, _, err := h.sequenceRow(r, s)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Sequences = append(v.Sequences, row)
	}
	h.render(w, r, status, "nurture", "nurture.title", v)
}

func (h *handler) sequenceOf(w http.ResponseWriter, r *http.Request) (*store.Sequence, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, r, leadflow.Errorf(leadflow.ENOTFOUND, "no sequence %q", r.PathValue("id")))
		return nil, false
	}
	s, err := h.deps.DB.Sequence(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return s, true
}

// nurtureSequence shows one sequence: state, per-step report, source (in
// the editor for those who may write), pause/resume and a test send.
func (h *handler) nurtureSequence(w http.ResponseWriter, r *http.Request) {
	s, ok := h.sequenceOf(w, r)
	if !ok {
		return
	}
	v := nurtureView{Source: s.Source}
	q := r.URL.Query()
	for k, key := range map[string]string{"saved": "nurture.saved", "paused": "nurture.paused", "resumed": "nurture.resumed",
		"sent": "nurture.sent_to"} {
		if q.Has(k) {
			v.Flash, v.FlashArg = key, q.Get(k)
		}
	}
	h.showSequence(w, r, http.StatusOK, s, v)
}

func (h *handler) showSequence(w http.ResponseWriter, r *http.Request, status int, s *store.Sequence, v nurtureView) {
	row, steps, err := h.sequenceRow(r, *s)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Seq, v.Steps = &row, steps
	for _, st := range steps {
		if st.Template != "" && !slices.Contains(v.Templates, st.Template) {
			v.Templates = append(v.Templates, st.Template)
		}
	}
	if v.Lines == nil {
		v.Lines = numbered(s.Source, nil)
	}
	h.renderTitled(w, r, status, "nurture_sequence", h.locale(r).T("nurture.sequence", s.Name), v)
}

// saveSequence validates a sequence (templates, stages, waits, CEL
// conditions, loops) and stores it, replacing the one of the same name.
// An invalid one changes nothing: the editor comes back with each problem
// at its line.
func (h *handler) saveSequence(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSequenceSize)
	src := strings.ReplaceAll(r.PostFormValue("source"), "\r\n", "\n")
	seq, err := nurture.Parse("sequence.yaml", []byte(src))
	var le *leadflow.Error
	switch {
	case errors.As(err, &le) && le.Code == leadflow.EINVALID:
		ps := le.Details
		if len(ps) == 0 {
			ps = []leadflow.Detail{{Where: le.Where, Message: le.Message}}
		}
		ps = locate([]byte(src), ps)
		h.showNurtureList(w, r, http.StatusUnprocessableEntity, nurtureView{Source: src, Problems: ps,
			Lines: numbered(src, problemLines(ps))})
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	row := &store.Sequence{Name: seq.Name, Source: src, Active: r.PostFormValue("inactive") == "",
		UpdatedBy: string(actor(userOf(r.Context())))}
	if err := h.deps.DB.InTx(r.Context(), func(tx *store.Tx) error { return tx.SaveSequence(r.Context(), row) }); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/nurture/"+strconv.FormatInt(row.ID, 10)+"?saved="+row.Name, http.StatusSeeOther)
}

// sequenceActive pauses (active=0) or resumes (active=1) a sequence.
func (h *handler) sequenceActive(w http.ResponseWriter, r *http.Request) {
	s, ok := h.sequenceOf(w, r)
	if !ok {
		return
	}
	active := r.PostFormValue("active") == "1"
	err := h.deps.DB.InTx(r.Context(), func(tx *store.Tx) error {
		_, err := tx.SetSequenceActive(r.Context(), s.ID, active, string(actor(userOf(r.Context()))))
		return err
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	flash := "paused"
	if active {
		flash = "resumed"
	}
	http.Redirect(w, r, "/nurture/"+strconv.FormatInt(s.ID, 10)+"?"+flash+"="+s.Name, http.StatusSeeOther)
}

// sequenceTestSend sends one email template of the sequence to an address
// now, through the configured SMTP server; a failure is shown on the page.
func (h *handler) sequenceTestSend(w http.ResponseWriter, r *http.Request) {
	s, ok := h.sequenceOf(w, r)
	if !ok {
		return
	}
	to := strings.TrimSpace(r.PostFormValue("to"))
	err := h.nurtureService().TestSend(r.Context(), s.ID, r.PostFormValue("template"), 0, to)
	if err != nil {
		if leadflow.ErrorCode(err) == leadflow.EINTERNAL {
			h.log.Error("web: test send", "sequence", s.ID, "err", err)
		}
		h.showSequence(w, r, statusOf(err), s, nurtureView{Source: s.Source, Error: flowError(h.locale(r), "", "", err), To: to})
		return
	}
	http.Redirect(w, r, "/nurture/"+strconv.FormatInt(s.ID, 10)+"?sent="+to, http.StatusSeeOther)
}
