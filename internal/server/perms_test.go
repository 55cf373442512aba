package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/auth"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

type apiOp struct{ method, path, id string }

func operations(api huma.API) []apiOp {
	var out []apiOp
	for path, p := range api.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{"GET": p.Get, "PUT": p.Put, "POST": p.Post, "DELETE": p.Delete, "PATCH": p.Patch} {
			if op != nil {
				out = append(out, apiOp{method, path, op.OperationID})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// TestAPIPermissionMatrix calls every API operation with a key of every
// role: the API must refuse (403 problem+json naming the permission)
// exactly what auth.Can refuses, like the UI's table test.
func TestAPIPermissionMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, err := jobs.New(db, nil, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		f := flow.New(db, q, nil)
		if err := f.EnsureModel(ctx); err != nil {
			t.Fatal(err)
		}
		email := "perm@example.co.jp"
		l, err := f.CreateLead(ctx, leadflow.LeadPatch{Email: &email}, "test")
		if err != nil {
			t.Fatal(err)
		}
		// A sales key belongs to a salesperson and sees their leads: the
		// lead is theirs, so that the calls reach the handlers.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &store.User{Name: "perm-sales", Role: "sales"}, "test")
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Reassign(ctx, l.ID, "perm-sales", "test"); err != nil {
			t.Fatal(err)
		}
		keys := map[auth.Role]string{}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, r := range auth.Roles {
				user := ""
				if r == auth.Sales {
					user = "perm-sales"
				}
				k, key, err := tx.CreateAPIKeyFor(ctx, store.NewAPIKey{Name: "key-" + string(r), Role: string(r), User: user})
				if err != nil {
					return err
				}
				if k.Role != string(r) {
					t.Errorf("key created with role %s has role %s", r, k.Role)
				}
				keys[r] = key
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s := New(Deps{Flow: f, DB: db, Version: "test"})
		srv := httptest.NewServer(s)
		defer srv.Close()

		fill := strings.NewReplacer("{id}", strconv.FormatInt(l.ID, 10), "{version}", "1", "{name}", "nobody",
			"{external_id}", "deal-1")
		ops := operations(s.API())
		if len(ops) < 50 {
			t.Fatalf("only %d operations found", len(ops))
		}
		for _, op := range ops {
			perm, ok := apiPerms[op.id]
			if !ok {
				t.Errorf("operation %s (%s %s) names no permission in apiPerms", op.id, op.method, op.path)
				continue
			}
			// Roles that may not go first: the allowed calls change data
			// (erase-lead) that a later denied call must not depend on.
			for _, role := range []auth.Role{auth.Viewer, auth.Sales, auth.Manager, auth.Marketing, auth.Admin} {
				req, _ := http.NewRequest(op.method, srv.URL+fill.Replace(op.path), strings.NewReader("{}"))
				req.Header.Set("Authorization", "Bearer "+keys[role])
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				allowed := auth.Can(role, perm)
				switch {
				case resp.StatusCode == http.StatusUnauthorized:
					t.Errorf("%s as %s: 401 %s", op.id, role, body)
				case allowed && resp.StatusCode == http.StatusForbidden:
					t.Errorf("%s as %s: 403, want allowed (%s): %s", op.id, role, perm, body)
				case !allowed && resp.StatusCode != http.StatusForbidden:
					t.Errorf("%s as %s: %d, want 403 (%s)", op.id, role, resp.StatusCode, perm)
				case !allowed:
					var p struct{ Detail string }
					_ = json.Unmarshal(body, &p)
					if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") ||
						!strings.Contains(p.Detail, string(perm)) || !strings.Contains(p.Detail, op.id) {
						t.Errorf("%s as %s: 403 %s %s, want a problem naming %s", op.id, role,
							resp.Header.Get("Content-Type"), body, perm)
					}
				}
			}
		}
		// The OpenAPI document names each operation's permission.
		if op := s.API().OpenAPI().Paths["/api/v1/model"].Post; op.Extensions["x-permission"] != string(auth.EditModel) ||
			!strings.Contains(op.Description, "model.edit") {
			t.Errorf("apply-model documents %v / %q", op.Extensions["x-permission"], op.Description)
		}
	})
}

// TestAPIKeyRoles: keys default to admin, an unknown role is refused, a
// revoked key is refused, and the API creates keys with a role.
func TestAPIKeyRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var admin, sales string
		var salesID int64
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, &store.User{Name: "rep", Role: "sales"}, "test"); err != nil {
				return err
			}
			k, key, err := tx.CreateAPIKey(ctx, "legacy")
			if err != nil || k.Role != store.RoleAdmin {
				t.Errorf("default role %v %v", k, err)
			}
			admin = key
			k, sales, err = tx.CreateAPIKeyFor(ctx, store.NewAPIKey{Name: "crm", Role: "sales", User: "rep"})
			salesID = k.ID
			if _, _, err := tx.CreateAPIKeyWithRole(ctx, "x", "root"); leadflow.ErrorCode(err) != leadflow.EINVALID {
				t.Errorf("unknown role: %v", err)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		q, _ := jobs.New(db, nil, jobs.Config{})
		srv := httptest.NewServer(New(Deps{Flow: flow.New(db, q, nil), DB: db, Version: "test"}))
		defer srv.Close()
		call := func(key, method, path, body string) (int, string) {
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, body := call(admin, "POST", "/api/v1/apikeys", `{"name":"bi","role":"viewer"}`); code != http.StatusCreated ||
			!strings.Contains(body, `"role":"viewer"`) {
			t.Fatalf("create viewer key: %d %s", code, body)
		}
		if code, body := call(admin, "POST", "/api/v1/apikeys", `{"name":"bi","role":"root"}`); code != http.StatusUnprocessableEntity {
			t.Fatalf("unknown role: %d %s", code, body)
		}
		if code, _ := call(sales, "GET", "/api/v1/leads", ""); code != http.StatusOK {
			t.Fatalf("sales key lists leads: %d", code)
		}
		code, body := call(sales, "PUT", "/api/v1/settings/routing", `{}`)
		if code != http.StatusForbidden || !strings.Contains(body, "settings.admin") || !strings.Contains(body, `\"crm\"`) {
			t.Fatalf("sales key puts routing: %d %s", code, body)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIKey(ctx, salesID) }); err != nil {
			t.Fatal(err)
		}
		if code, _ := call(sales, "GET", "/api/v1/leads", ""); code != http.StatusUnauthorized {
			t.Fatalf("revoked key: %d", code)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.RevokeAPIKey(ctx, salesID) }); leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			t.Fatalf("revoking twice: %v", err)
		}
		keys, err := db.APIKeys(ctx)
		if err != nil || len(keys) != 3 || keys[1].RevokedAt == nil || keys[2].Role != "viewer" {
			t.Fatalf("keys %+v %v", keys, err)
		}
	})
}
