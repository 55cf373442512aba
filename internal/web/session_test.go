package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func TestLoginSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		c := b.client(t)

		if r := b.get(t, c, "/leads"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fleads" {
			t.Fatalf("anonymous /leads: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		if r := b.post(t, c, "/login", url.Values{"name": {"sales1"}, "password": {"wrong password"}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.StatusCode)
		}
		if r := b.post(t, c, "/login", url.Values{"name": {"nobody"}, "password": {testPassword}}); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown user: %d", r.StatusCode)
		}
		r := b.post(t, c, "/login", url.Values{"name": {"sales1"}, "password": {testPassword}, "next": {"/queue"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/queue" {
			t.Fatalf("login: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		var first *http.Cookie
		for _, ck := range r.Cookies() {
			if ck.Name == sessionCookie {
				first = ck
			}
		}
		if first == nil || !first.HttpOnly || first.SameSite != http.SameSiteLaxMode || first.Path != "/" {
			t.Fatalf("session cookie %+v", first)
		}
		if r := b.get(t, c, "/queue"); r.StatusCode != http.StatusOK {
			t.Fatalf("queue after login: %d", r.StatusCode)
		}

		// Logging in again rotates the session: the old token is dead.
		b.post(t, c, "/login", url.Values{"name": {"sales1"}, "password": {testPassword}})
		stale := b.client(t)
		u, _ := url.Parse(b.srv.URL)
		stale.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first.Value}})
		if r := b.get(t, stale, "/queue"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("old session after a new login: %d", r.StatusCode)
		}

		// Idle expiry.
		if r := b.get(t, c, "/queue"); r.StatusCode != http.StatusOK {
			t.Fatalf("queue: %d", r.StatusCode)
		}
		b.advance(auth.IdleTimeout + time.Minute)
		if r := b.get(t, c, "/queue"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("queue after idle timeout: %d", r.StatusCode)
		}

		// Logout.
		c = b.login(t, "manager1")
		if r := b.post(t, c, "/logout", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.StatusCode)
		}
		if r := b.get(t, c, "/"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("dashboard after logout: %d", r.StatusCode)
		}

		// A deactivated user's session stops working.
		c = b.login(t, "viewer1")
		if err := db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.UpdateUser(context.Background(), "viewer1", store.UserUpdate{Active: ptr(false)}, "test")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if r := b.get(t, c, "/"); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("deactivated user: %d", r.StatusCode)
		}
	})
}

// TestPermissionMatrix requests every route as every role and as an
// anonymous visitor: the server must allow exactly what auth.Can allows.
func TestPermissionMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		clients := map[auth.Role]*http.Client{}
		for _, r := range auth.Roles {
			clients[r] = b.login(t, string(r)+"1")
		}
		asset := strings.TrimPrefix(must(b.h.assets.url("app.css")), "/static/")
		hash, name, _ := strings.Cut(asset, "/")
		fill := strings.NewReplacer("{id}", strconv.FormatInt(b.lead, 10), "{version}", "1",
			"{hash}", hash, "{path...}", name, "{$}", "")
		for _, rt := range b.h.routes() {
			if rt.perm == "" {
				t.Errorf("route %s names no permission", rt.pattern)
			}
			method, path, _ := strings.Cut(rt.pattern, " ")
			path = fill.Replace(path)
			send := func(c *http.Client) response {
				if method == http.MethodPost {
					return b.post(t, c, path, url.Values{"note": {"perm test"}})
				}
				return b.get(t, c, path)
			}
			anon := send(b.client(t))
			if rt.perm == auth.Public {
				// (a failed login is a 401 of its own)
				if anon.StatusCode == http.StatusForbidden || (anon.StatusCode == http.StatusUnauthorized && rt.pattern != "POST /login") {
					t.Errorf("anonymous %s: %d, want allowed", rt.pattern, anon.StatusCode)
				}
			} else if want := map[string]int{"GET": http.StatusSeeOther, "POST": http.StatusUnauthorized}[method]; anon.StatusCode != want ||
				(method == "GET" && !strings.HasPrefix(anon.Header.Get("Location"), "/login")) {
				t.Errorf("anonymous %s: %d, want %d to the login", rt.pattern, anon.StatusCode, want)
			}
			for _, role := range auth.Roles {
				if rt.pattern == "POST /logout" {
					continue // would end the session the next routes need
				}
				got := send(clients[role])
				denied := got.StatusCode == http.StatusForbidden ||
					(got.StatusCode == http.StatusUnauthorized && rt.pattern != "POST /login")
				if allowed := auth.Can(role, rt.perm); allowed == denied {
					t.Errorf("%s as %s: %d, allowed=%v", rt.pattern, role, got.StatusCode, allowed)
				}
			}
		}
	})
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestCrossOriginRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		c := b.login(t, "sales1")
		r := b.post(t, c, "/leads/"+strconv.FormatInt(b.lead, 10)+"/touch", url.Values{"kind": {"call"}},
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site POST: %d", r.StatusCode)
		}
		touches, _ := db.TouchesOfLead(context.Background(), b.lead)
		if len(touches) != 0 {
			t.Fatal("a cross-site POST logged a touch")
		}
		if r := b.post(t, c, "/login", url.Values{"name": {"sales1"}, "password": {testPassword}},
			"Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site login: %d", r.StatusCode)
		}
	})
}

// TestLoginThrottled: after repeated wrong passwords the name is refused
// with 429 for a while, even with the right password, and an unknown name
// is answered the same way (no user enumeration).
func TestLoginThrottled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		c := b.client(t)
		for _, name := range []string{"sales1", "nobody-here"} {
			for i := 0; i < auth.MaxFailures; i++ {
				if r := b.post(t, c, "/login", url.Values{"name": {name}, "password": {"wrong"}}); r.StatusCode != http.StatusUnauthorized {
					t.Fatalf("%s attempt %d: %d", name, i, r.StatusCode)
				}
			}
			r := b.post(t, c, "/login", url.Values{"name": {name}, "password": {testPassword}})
			if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s after %d failures: %d", name, auth.MaxFailures, r.StatusCode)
			}
		}
	})
}
