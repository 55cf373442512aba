package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/problem"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

//go:embed templates/*.html
var templatesFS embed.FS

//go:embed static
var staticFS embed.FS

// assets are the embedded static files with their content hashes; a file
// is served at /static/<hash>/<name> with a year-long immutable cache, so
// a new release changes every URL whose content changed.
type assets struct {
	hash map[string]string // name → first 12 hex digits of its SHA-256
}

func loadAssets() (*assets, error) {
	a := &assets{hash: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hash[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:])[:12]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	for _, need := range []string{"app.css", "app.js", "vendor/htmx.min.js", "vendor/echarts.min.js"} {
		if _, ok := a.hash[need]; !ok {
			return nil, fmt.Errorf("web: static file %s is missing (run scripts/vendor-web.sh)", need)
		}
	}
	return a, nil
}

// url returns the content-hashed URL of a static file; an unknown name
// panics at template execution, caught by the page tests.
func (a *assets) url(name string) (string, error) {
	h, ok := a.hash[name]
	if !ok {
		return "", fmt.Errorf("unknown asset %q", name)
	}
	return "/static/" + h + "/" + name, nil
}

func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("path")
	want, ok := h.assets.hash[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.PathValue("hash") != want {
		// An old hash (a page cached across a release): send the current
		// file, but do not let it be cached as that URL.
		http.Redirect(w, r, "/static/"+want+"/"+name, http.StatusFound)
		return
	}
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+want+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// templates are the pages, each parsed with the layout and partials.
type templates struct {
	pages map[string]*template.Template
}

// pageNames are the templates that are pages (templates/<name>.html); the
// others (layout, partials) are shared by all.
var pageNames = []string{"login", "error", "dashboard", "review", "queue", "leads", "lead", "model", "model_edit",
	"model_version", "settings", "settings_users", "settings_webhooks", "settings_doc", "settings_keys", "settings_calendar", "nurture", "nurture_sequence"}

func parseTemplates(a *assets) (*templates, error) {
	funcs := template.FuncMap{
		"asset": a.url,
		"json": func(v any) (template.JS, error) {
			b, err := json.Marshal(v)
			return template.JS(b), err
		},
		"jsonAttr": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"add": func(a, b int) int { return a + b },
		"st":  func(l *locale, s leadflow.Stage) stageArg { return stageArg{l, s} },
		"rulesArg": func(l *locale, rs []scoring.Rule) any {
			return struct {
				L     *locale
				Rules []scoring.Rule
			}{l, rs}
		},
		"changesArg": func(l *locale, cs []scoring.Change) any {
			return struct {
				L       *locale
				Changes []scoring.Change
			}{l, cs}
		},
		"lower": strings.ToLower,
		"list":  func(s ...string) []string { return s },
		"deref": func(p *float64) float64 {
			if p == nil {
				return 0
			}
			return *p
		},
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templatesFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		c, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := c.ParseFS(templatesFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		if c.Lookup("content") == nil {
			return nil, fmt.Errorf("web: template %s defines no content", name)
		}
		t.pages[name] = c
	}
	return t, nil
}

// view is what every page template gets.
type view struct {
	L       *locale
	User    *store.Session
	Title   string
	Nav     string // the page's menu entry
	Path    string // the request URI, for the language switch
	Version string
	Data    any
}

// Can reports whether the user may do perm (an auth.Perm), for menus and
// buttons; the routes enforce it regardless.
func (v view) Can(perm string) bool { return v.User != nil && can(v.User, perm) }

// render executes a page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page, titleKey string, data any) {
	h.renderView(w, r, status, page, func(l *locale) string { return l.T(titleKey) }, data)
}

func (h *handler) renderView(w http.ResponseWriter, r *http.Request, status int, page string, title func(*locale) string, data any) {
	t, ok := h.tmpl.pages[page]
	if !ok {
		h.serverError(w, r, fmt.Errorf("no template %s", page))
		return
	}
	l := h.locale(r)
	u := userOf(r.Context())
	v := view{L: l, User: u, Title: title(l), Nav: page, Path: r.URL.RequestURI(), Version: h.deps.Version,
		Data: data}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct {
	Status  int
	Message string // a catalog key
	Detail  string // a client-safe error message
}

func (h *handler) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	h.render(w, r, status, "error", "error.title", errorView{Status: status, Message: key})
}

// fail shows a leadflow error: its client-safe message, or "internal
// error" (logged with its cause) for anything unexpected.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := leadflow.ErrorCode(err)
	if code == leadflow.EINTERNAL {
		h.serverError(w, r, err)
		return
	}
	h.render(w, r, problem.Status(code), "error", "error.title",
		errorView{Status: problem.Status(code), Message: "error.generic", Detail: flowError(h.locale(r), "", "", err)})
}

func (h *handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("web: internal error", "path", r.URL.Path, "err", err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("internal error\n"))
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "error.notfound")
}

// can reports whether the session's user has the permission (templates
// ask with a string).
func can(u *store.Session, perm string) bool { return auth.Can(auth.Role(u.Role), auth.Perm(perm)) }

// stageArg is the argument of the "stage" badge template.
type stageArg struct {
	L *locale
	S leadflow.Stage
}

// renderTitled renders a page whose title is data (a lead's name), not a
// catalog key.
func (h *handler) renderTitled(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	h.renderView(w, r, status, page, func(l *locale) string { return title }, data)
}

func statusOf(err error) int { return problem.Status(leadflow.ErrorCode(err)) }
