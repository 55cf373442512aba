package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/routing"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// maxSettingsSize bounds a settings document posted from an editor.
const maxSettingsSize = 1 << 20

// settingsDoc is one YAML settings document the admin edits in the UI:
// routing rules, SLA policies with the business calendar, rejection
// reasons. Each is validated by its domain package (errors located at
// file:line:column) and saved as the API saves it.
type settingsDoc struct {
	name  string // URL segment and file name stem
	title string // catalog key
	key   string // store setting key
	def   func() []byte
	save  func(ctx context.Context, h *handler, src []byte, by flow.Actor) error
}

var settingsDocs = map[string]settingsDoc{
	"routing": {name: "routing", title: "settings.routing", key: store.SettingRouting,
		def: func() []byte { return routing.DefaultSource },
		save: func(ctx context.Context, h *handler, src []byte, by flow.Actor) error {
			_, _, err := h.deps.Flow.SetRouting(ctx, "routing.yaml", src, by)
			return err
		}},
	"sla": {name: "sla", title: "settings.sla", key: store.SettingSLA,
		def: func() []byte { return sla.DefaultSource },
		save: func(ctx context.Context, h *handler, src []byte, by flow.Actor) error {
			if _, err := sla.Parse("sla.yaml", src); err != nil {
				return err
			}
			return h.putSetting(ctx, store.SettingSLA, src, string(by))
		}},
	"reasons": {name: "reasons", title: "settings.reasons", key: store.SettingRejectionReasons,
		def: func() []byte {
			b, _ := yaml.Marshal(map[string]any{"reasons": lifecycle.DefaultReasons})
			return b
		},
		save: func(ctx context.Context, h *handler, src []byte, by flow.Actor) error {
			if _, err := lifecycle.ParseReasons(src); err != nil {
				return err
			}
			return h.putSetting(ctx, store.SettingRejectionReasons, src, string(by))
		}},
}

func (h *handler) putSetting(ctx context.Context, key string, src []byte, by string) error {
	return h.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, key, string(src), by) })
}

type docView struct {
	Name, Title string
	Source      string
	Setting     *store.Setting
	Lines       []srcLine
	Problems    []leadflow.Detail
	Saved       bool
	// Holidays of the year in the SLA document's calendar (sla only).
	Year     int
	TimeZone string
	Holidays []holidayRow
}

type holidayRow struct {
	Date, Name string
	Company    bool
}

var jaWeekdays = []string{"日", "月", "火", "水", "木", "金", "土"}

// holidayRows formats the days in the calendar's own time zone, in the
// user's language.
func holidayRows(hs []calendar.Holiday, lang string) []holidayRow {
	out := make([]holidayRow, len(hs))
	for i, hd := range hs {
		d := hd.Date.Format("2006/01/02") + " (" + jaWeekdays[hd.Date.Weekday()] + ")"
		if lang == "en" {
			d = hd.Date.Format("Mon, Jan 2, 2006")
		}
		out[i] = holidayRow{Date: d, Name: hd.Name, Company: hd.Company}
	}
	return out
}

// settingsDocPage shows the editor of one settings document.
func (h *handler) settingsDocPage(name string) http.HandlerFunc {
	doc := settingsDocs[name]
	return func(w http.ResponseWriter, r *http.Request) {
		v := docView{Name: doc.name, Title: doc.title, Saved: r.URL.Query().Has("saved")}
		st, err := h.deps.DB.Setting(r.Context(), doc.key)
		switch leadflow.ErrorCode(err) {
		case "":
			v.Setting, v.Source = st, st.Value
		case leadflow.ENOTFOUND:
			v.Source = string(doc.def())
		default:
			h.fail(w, r, err)
			return
		}
		h.showDoc(w, r, http.StatusOK, v)
	}
}

func (h *handler) showDoc(w http.ResponseWriter, r *http.Request, status int, v docView) {
	if v.Name == "sla" {
		src := []byte(v.Source)
		if v.Problems != nil {
			// Holidays of the settings in force while the draft is wrong.
			src = sla.DefaultSource
			if st, err := h.deps.DB.Setting(r.Context(), store.SettingSLA); err == nil {
				src = []byte(st.Value)
			}
		}
		if p, err := sla.Parse("sla.yaml", src); err == nil {
			loc := p.Calendar.Location()
			v.TimeZone, v.Year = loc.String(), h.now().In(loc).Year()
			v.Holidays = holidayRows(p.Calendar.Holidays(v.Year), h.locale(r).Lang)
		}
	}
	h.render(w, r, status, "settings_doc", v.Title, v)
}

// saveSettingsDoc validates and stores a document; an invalid one changes
// nothing and comes back with its problems at their lines.
func (h *handler) saveSettingsDoc(name string) http.HandlerFunc {
	doc := settingsDocs[name]
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxSettingsSize)
		src := strings.ReplaceAll(r.PostFormValue("source"), "\r\n", "\n")
		err := doc.save(r.Context(), h, []byte(src), actor(userOf(r.Context())))
		var le *leadflow.Error
		switch {
		case err == nil:
			http.Redirect(w, r, "/settings/"+doc.name+"?saved=1", http.StatusSeeOther)
		case errors.As(err, &le) && le.Code == leadflow.EINVALID:
			ps := le.Details
			if len(ps) == 0 {
				ps = []leadflow.Detail{{Where: le.Where, Message: le.Message}}
			}
			ps = locate([]byte(src), ps)
			v := docView{Name: doc.name, Title: doc.title, Source: src, Problems: ps, Lines: numbered(src, problemLines(ps))}
			h.showDoc(w, r, http.StatusUnprocessableEntity, v)
		default:
			h.fail(w, r, err)
		}
	}
}

var (
	yamlErrPos = regexp.MustCompile(`^\s*\[(\d+):(\d+)\]`)
	indexRe    = regexp.MustCompile(`\[(\d+)\]`)
)

// locate gives a line and column ("file:L:C") to problems that name a
// path ("reasons[1].id") or carry a YAML parser position in their
// message, so that every problem shows at its line.
func locate(src []byte, ps []leadflow.Detail) []leadflow.Detail {
	out := make([]leadflow.Detail, len(ps))
	var file *ast.File
	for i, p := range ps {
		out[i] = p
		if lineRe.MatchString(p.Where) {
			continue
		}
		if m := yamlErrPos.FindStringSubmatch(p.Message); m != nil {
			out[i].Where = p.Where + ":" + m[1] + ":" + m[2]
			out[i].Message = strings.TrimSpace(strings.SplitN(yamlErrPos.ReplaceAllString(p.Message, ""), "\n", 2)[0])
			continue
		}
		if p.Where == "" {
			continue
		}
		if file == nil {
			f, err := parser.ParseBytes(src, 0)
			if err != nil {
				continue
			}
			file = f
		}
		path, err := yaml.PathString("$." + indexRe.ReplaceAllString(p.Where, "[$1]"))
		if err != nil {
			continue
		}
		n, err := path.FilterFile(file)
		if err != nil || n == nil || n.GetToken() == nil {
			continue
		}
		pos := n.GetToken().Position
		out[i].Where = p.Where + ":" + strconv.Itoa(pos.Line) + ":" + strconv.Itoa(pos.Column)
	}
	return out
}
