package web

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// maxModelSize bounds a model posted from the editor.
const maxModelSize = 1 << 20

type modelView struct {
	Version  *store.ModelVersion
	Rules    []scoring.Rule
	Lines    []srcLine
	Versions []store.ModelVersion
	Changes  []scoring.Change
	Applied  bool
}

// srcLine is one line of a model's source, marked when a problem is on it.
type srcLine struct {
	N        int
	Text     string
	Problems []string
}

func numbered(src string, problems map[int][]string) []srcLine {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	out := make([]srcLine, len(lines))
	for i, t := range lines {
		out[i] = srcLine{N: i + 1, Text: t, Problems: problems[i+1]}
	}
	return out
}

func (h *handler) model(w http.ResponseWriter, r *http.Request) {
	act, mv, err := h.deps.Flow.ActiveModel(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := modelView{Version: mv, Rules: act.Model.Rules(), Lines: numbered(mv.Source, nil), Applied: r.URL.Query().Has("applied")}
	if v.Versions, err = h.deps.DB.ModelVersions(r.Context()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "model", "model.title", v)
}

// modelVersion shows one stored version and what it changed from the one
// before.
func (h *handler) modelVersion(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil {
		h.fail(w, r, leadflow.Errorf(leadflow.ENOTFOUND, "no model version %q", r.PathValue("version")))
		return
	}
	mv, err := h.deps.DB.ModelByVersion(r.Context(), n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	m, err := scoring.Compile("model v"+itoa(n), []byte(mv.Source))
	if err != nil {
		h.fail(w, r, leadflow.Internal(err, "stored model"))
		return
	}
	var prev *scoring.Model
	if n > 1 {
		if pv, err := h.deps.DB.ModelByVersion(r.Context(), n-1); err == nil {
			prev, _ = scoring.Compile("model v"+itoa(n-1), []byte(pv.Source))
		}
	}
	v := modelView{Version: mv, Rules: m.Rules(), Lines: numbered(mv.Source, nil), Changes: scoring.Diff(prev, m)}
	h.renderTitled(w, r, http.StatusOK, "model_version", h.locale(r).T("model.version", n), v)
}

type editView struct {
	Source   string
	Lines    []srcLine
	Problems []leadflow.Detail
	Changes  []scoring.Change
	Valid    bool
	Checked  bool
	Active   int
	Error    string
}

func (h *handler) modelEdit(w http.ResponseWriter, r *http.Request) {
	_, mv, err := h.deps.Flow.ActiveModel(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "model_edit", "model.edit", editView{Source: mv.Source, Active: mv.Version})
}

// check compiles a draft: its problems by line, or its changes against
// the active model.
func (h *handler) check(r *http.Request, src string) (editView, error) {
	act, mv, err := h.deps.Flow.ActiveModel(r.Context())
	if err != nil {
		return editView{}, err
	}
	v := editView{Source: src, Checked: true, Active: mv.Version}
	m, err := scoring.Compile("model.yaml", []byte(src))
	var le *leadflow.Error
	switch {
	case err == nil:
		v.Valid, v.Changes = true, scoring.Diff(act.Model, m)
	case errors.As(err, &le) && le.Code == leadflow.EINVALID:
		v.Problems = le.Details
		if len(v.Problems) == 0 {
			v.Problems = []leadflow.Detail{{Where: le.Where, Message: le.Message}}
		}
	default:
		return v, err
	}
	v.Lines = numbered(src, problemLines(v.Problems))
	return v, nil
}

var lineRe = regexp.MustCompile(`:(\d+):(\d+)$`)

// problemLines indexes problems ("model.yaml:12:5") by line.
func problemLines(ps []leadflow.Detail) map[int][]string {
	out := map[int][]string{}
	for _, p := range ps {
		if m := lineRe.FindStringSubmatch(p.Where); m != nil {
			n, _ := strconv.Atoi(m[1])
			out[n] = append(out[n], "col "+m[2]+": "+p.Message)
		}
	}
	return out
}

func modelSource(w http.ResponseWriter, r *http.Request) string {
	r.Body = http.MaxBytesReader(w, r.Body, maxModelSize)
	return strings.ReplaceAll(r.PostFormValue("source"), "\r\n", "\n")
}

func (h *handler) modelValidate(w http.ResponseWriter, r *http.Request) {
	v, err := h.check(r, modelSource(w, r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if !v.Valid {
		status = http.StatusUnprocessableEntity
	}
	h.render(w, r, status, "model_edit", "model.edit", v)
}

// modelApply applies a draft once the user confirmed it: an invalid draft
// or a missing confirmation changes nothing and shows the editor again.
func (h *handler) modelApply(w http.ResponseWriter, r *http.Request) {
	src := modelSource(w, r)
	v, err := h.check(r, src)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !v.Valid || r.PostFormValue("confirm") == "" {
		if v.Valid {
			v.Error = h.locale(r).T("model.confirm_needed")
		}
		h.render(w, r, http.StatusUnprocessableEntity, "model_edit", "model.edit", v)
		return
	}
	if _, _, err := h.deps.Flow.ApplyModel(r.Context(), "model.yaml", []byte(src), actor(userOf(r.Context()))); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/model?applied=1", http.StatusSeeOther)
}
