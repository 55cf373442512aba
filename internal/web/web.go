// Package web is leadflow's browser UI: server-rendered html/template pages
// enhanced with htmx, for marketing, inside sales, sales and managers.
// Templates, message catalogs and static files are embedded and parsed at
// start-up (New fails fast); static files are served under content-hashed
// URLs with a long cache. Every route names the permission it needs
// (internal/auth), enforced here on the server.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/store"
)

// Deps are what the UI needs.
type Deps struct {
	Flow    *flow.Flow
	DB      *store.DB
	Logger  *slog.Logger
	Version string
	Now     func() time.Time
	// Location is the company's time zone, in which dates are shown;
	// default Asia/Tokyo.
	Location *time.Location
	// Nurture is the nurture service whose test sends the nurture page
	// makes (shared rate limits); nil builds one of the UI's own.
	Nurture *nurture.Service
	// SecureCookies forces the Secure attribute on cookies; it is set
	// anyway when the request came over TLS (or X-Forwarded-Proto: https).
	SecureCookies bool
}

// handler is the UI.
type handler struct {
	deps   Deps
	log    *slog.Logger
	tmpl   *templates
	assets *assets
	i18n   *catalogs
	mux    *http.ServeMux
	// throttle refuses logins after repeated failures.
	throttle *auth.Throttle
	// nurture sends the test emails (nurtureService).
	nurture     *nurture.Service
	nurtureOnce sync.Once
}

// route is one UI route and the permission it needs.
type route struct {
	pattern string
	perm    auth.Perm
	fn      http.HandlerFunc
}

// routes is every route of the UI; the permission test walks this table.
func (h *handler) routes() []route {
	return []route{
		{"GET /login", auth.Public, h.loginPage},
		{"POST /login", auth.Public, h.login},
		{"POST /logout", auth.Authenticated, h.logout},
		{"POST /lang", auth.Public, h.setLang},
		{"GET /static/{hash}/{path...}", auth.Public, h.static},

		{"GET /{$}", auth.ViewDashboard, h.dashboard},
		{"GET /review", auth.ViewDashboard, h.review},
		{"GET /review.csv", auth.ViewDashboard, h.reviewExport("csv")},
		{"GET /review.json", auth.ViewDashboard, h.reviewExport("json")},
		{"POST /review/subscription", auth.ViewDashboard, h.reviewSubscribe},
		{"GET /queue", auth.WorkQueue, h.queue},
		{"POST /queue/tasks/{id}/complete", auth.WorkLeads, h.completeTask},
		{"GET /leads", auth.ViewLeads, h.leads},
		{"GET /leads/export.csv", auth.ExportLeads, h.exportLeads},
		{"GET /leads/{id}", auth.ViewLeads, h.lead},
		{"POST /leads/{id}/accept", auth.WorkLeads, h.leadAction(actAccept)},
		{"POST /leads/{id}/reject", auth.WorkLeads, h.leadAction(actReject)},
		{"POST /leads/{id}/qualify", auth.WorkLeads, h.leadAction(actQualify)},
		{"POST /leads/{id}/disqualify", auth.WorkLeads, h.leadAction(actDisqualify)},
		{"POST /leads/{id}/recycle", auth.WorkLeads, h.leadAction(actRecycle)},
		{"POST /leads/{id}/touch", auth.WorkLeads, h.leadAction(actTouch)},
		{"POST /leads/{id}/bant", auth.WorkLeads, h.leadAction(actBANT)},
		{"POST /leads/{id}/reassign", auth.ReassignLeads, h.leadAction(actReassign)},

		{"GET /model", auth.ViewModel, h.model},
		{"GET /model/versions/{version}", auth.ViewModel, h.modelVersion},
		{"GET /model/edit", auth.EditModel, h.modelEdit},
		{"POST /model/validate", auth.EditModel, h.modelValidate},
		{"POST /model/apply", auth.EditModel, h.modelApply},

		{"GET /nurture", auth.ViewNurture, h.nurtureList},
		{"POST /nurture", auth.EditNurture, h.saveSequence},
		{"GET /nurture/{id}", auth.ViewNurture, h.nurtureSequence},
		{"POST /nurture/{id}/active", auth.EditNurture, h.sequenceActive},
		{"POST /nurture/{id}/test-send", auth.EditNurture, h.sequenceTestSend},

		{"GET /settings", auth.ViewSettings, h.settings},
		{"GET /settings/users", auth.Administer, h.settingsUsers},
		{"POST /settings/users", auth.Administer, h.createUser},
		{"GET /settings/webhooks", auth.Administer, h.settingsWebhooks},
		{"POST /settings/webhooks", auth.Administer, h.createWebhook},
		{"POST /settings/webhooks/{id}/active", auth.Administer, h.webhookAction(false)},
		{"POST /settings/webhooks/{id}/delete", auth.Administer, h.webhookAction(true)},
		{"POST /settings/users/{name}", auth.Administer, h.updateUser},
		{"POST /settings/teams", auth.Administer, h.createTeam},
		{"POST /settings/teams/{name}", auth.Administer, h.updateTeam},
		{"GET /settings/keys", auth.Administer, h.settingsKeys},
		{"POST /settings/keys", auth.Administer, h.createKey},
		{"POST /settings/keys/{id}/revoke", auth.Administer, h.revokeKey("api")},
		{"POST /settings/sources/{id}/revoke", auth.Administer, h.revokeKey("write")},
		{"GET /settings/routing", auth.Administer, h.settingsDocPage("routing")},
		{"POST /settings/routing", auth.Administer, h.saveSettingsDoc("routing")},
		{"GET /settings/sla", auth.Administer, h.settingsDocPage("sla")},
		{"POST /settings/sla", auth.Administer, h.saveSettingsDoc("sla")},
		{"GET /settings/calendar", auth.Administer, h.settingsCalendar}, {"POST /settings/calendar", auth.Administer, h.saveCalendar},
		{"GET /settings/reasons", auth.Administer, h.settingsDocPage("reasons")},
		{"POST /settings/reasons", auth.Administer, h.saveSettingsDoc("reasons")},
	}
}

// New builds the UI handler. Templates, catalogs and assets are parsed
// here: a broken template or a catalog missing a key fails start-up.
func New(d Deps) (http.Handler, error) {
	_, hd, err := newHandler(d)
	return hd, err
}

func newHandler(d Deps) (*handler, http.Handler, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		loc, err := time.LoadLocation("Asia/Tokyo")
		if err != nil {
			loc = time.FixedZone("JST", 9*3600)
		}
		d.Location = loc
	}
	h := &handler{deps: d, log: d.Logger, mux: http.NewServeMux(), throttle: auth.NewThrottle()}
	var err error
	if h.assets, err = loadAssets(); err != nil {
		return nil, nil, err
	}
	if h.i18n, err = loadCatalogs(); err != nil {
		return nil, nil, err
	}
	if h.tmpl, err = parseTemplates(h.assets); err != nil {
		return nil, nil, err
	}
	for _, rt := range h.routes() {
		h.mux.Handle(rt.pattern, h.require(rt.perm, rt.fn))
	}
	h.mux.HandleFunc("/", h.notFound)

	// Cross-origin state-changing requests are refused before anything
	// else runs (CSRF); the session cookie is SameSite=Lax besides.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	return h, cop.Handler(securityHeaders(h.withSession(h.mux))), nil
}

// securityHeaders sets the headers every UI response carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// now is the UI's clock.
func (h *handler) now() time.Time { return h.deps.Now().UTC() }

type ctxKey int

const userKey ctxKey = 1

// userOf returns the logged-in user of the request, nil when anonymous.
func userOf(ctx context.Context) *store.Session {
	s, _ := ctx.Value(userKey).(*store.Session)
	return s
}

// actor is how the UI names the user in transitions and audit records.
func actor(s *store.Session) flow.Actor { return flow.Actor("user:" + s.UserName) }

func itoa(n int) string { return strconv.Itoa(n) }
