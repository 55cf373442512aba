package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/store"
)

const (
	sessionCookie = "lf_session"
	langCookie    = "lf_lang"
)

// withSession reads the session cookie and puts the user in the request
// context. An expired or unknown session is deleted and the cookie cleared.
// The last-seen time is written at most once a minute.
func (h *handler) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		hash := auth.TokenHash(c.Value)
		s, err := h.deps.DB.FindSession(r.Context(), hash)
		now := h.now()
		switch {
		case leadflow.ErrorCode(err) == leadflow.ENOTFOUND:
			h.clearCookie(w, r, sessionCookie)
		case err != nil:
			h.serverError(w, r, err)
			return
		case !auth.Alive(s.CreatedAt, s.LastSeenAt, now) || !now.Before(s.ExpiresAt):
			h.endSession(r.Context(), hash)
			h.clearCookie(w, r, sessionCookie)
		default:
			if now.Sub(s.LastSeenAt) >= auth.TouchEvery {
				if err := h.deps.DB.InTx(r.Context(), func(tx *store.Tx) error { return tx.TouchSession(r.Context(), hash) }); err != nil {
					h.log.Warn("session touch", "err", err)
				}
			}
			r = r.WithContext(context.WithValue(r.Context(), userKey, s))
		}
		next.ServeHTTP(w, r)
	})
}

// require enforces a route's permission: anonymous users are sent to the
// login page (htmx requests get HX-Redirect), users without the
// permission get 403.
func (h *handler) require(perm auth.Perm, fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if perm == auth.Public {
			fn(w, r)
			return
		}
		u := userOf(r.Context())
		if u == nil {
			target := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", target)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				h.errorPage(w, r, http.StatusUnauthorized, "error.login")
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if !auth.Can(auth.Role(u.Role), perm) {
			h.errorPage(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		fn(w, r)
	})
}

func (h *handler) secure(r *http.Request) bool {
	return h.deps.SecureCookies || r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func (h *handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
}

func (h *handler) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
}

func (h *handler) endSession(ctx context.Context, hash string) {
	if err := h.deps.DB.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, hash) }); err != nil {
		h.log.Warn("session delete", "err", err)
	}
}

type loginView struct {
	Name, Next string
	Failed     bool
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if userOf(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", "login.title", loginView{Next: r.URL.Query().Get("next")})
}

// login checks the name and password and starts a new session. Any
// session the browser had is ended first (rotation at login), so a
// session id planted before login is worthless.
func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	addr := remoteAddr(r)
	now := h.deps.Now()
	if blocked, wait := h.throttle.Blocked(name, addr, now); blocked {
		h.log.Warn("login throttled", "user", name, "remote", addr)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		h.render(w, r, http.StatusTooManyRequests, "login", "login.title", loginView{Name: name, Next: next, Failed: true})
		return
	}
	hash, err := h.deps.DB.PasswordHash(r.Context(), name)
	ok := false
	switch {
	case leadflow.ErrorCode(err) == leadflow.ENOTFOUND || (err == nil && hash == ""):
		auth.VerifyUnknown(pw)
	case err != nil:
		h.serverError(w, r, err)
		return
	default:
		ok = auth.VerifyPassword(hash, pw)
	}
	if !ok {
		h.throttle.Fail(name, addr, now)
		h.log.Info("login failed", "user", name, "remote", r.RemoteAddr)
		h.render(w, r, http.StatusUnauthorized, "login", "login.title", loginView{Name: name, Next: next, Failed: true})
		return
	}
	h.throttle.Succeed(name)
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		h.endSession(r.Context(), auth.TokenHash(c.Value))
	}
	token := auth.NewToken()
	err = h.deps.DB.InTx(r.Context(), func(tx *store.Tx) error {
		if _, err := tx.DeleteExpiredSessions(r.Context(), tx.Now.Add(-auth.IdleTimeout)); err != nil {
			return err
		}
		ua := r.UserAgent()
		if len(ua) > 300 {
			ua = ua[:300]
		}
		s := &store.Session{TokenHash: auth.TokenHash(token), UserName: name, ExpiresAt: tx.Now.Add(auth.MaxAge), UserAgent: ua}
		if err := tx.CreateSession(r.Context(), s); err != nil {
			return err
		}
		return tx.Audit(r.Context(), "user:"+name, "user.login", "user", 0, name)
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.setCookie(w, r, sessionCookie, token, auth.MaxAge)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		h.endSession(r.Context(), auth.TokenHash(c.Value))
	}
	h.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang remembers the chosen language in a cookie for a year.
func (h *handler) setLang(w http.ResponseWriter, r *http.Request) {
	if l := r.PostFormValue("lang"); h.i18n.has(l) {
		h.setCookie(w, r, langCookie, l, 365*24*time.Hour)
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// remoteAddr is the client's address without the port.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
