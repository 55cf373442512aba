package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDeleteTargets deletes one metric's target, then a whole month's, and
// checks the 404 problem when there is nothing left to delete.
func TestDeleteTargets(t *testing.T) {
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, backend)
			body := `{"targets":[{"month":"2026-04","metric":"mqls","value":200},{"month":"2026-04","metric":"sqls","value":50},` +
				`{"month":"2026-05","metric":"mqls","value":210}]}`
			if status, b := s.do(t, "PUT", "/api/v1/targets", "application/json", strings.NewReader(body)); status != 200 {
				t.Fatalf("put: %d %s", status, b)
			}
			targets := func() []string {
				status, b := s.do(t, "GET", "/api/v1/targets?from=2026-04&to=2026-05", "", nil)
				if status != 200 {
					t.Fatalf("get: %d %s", status, b)
				}
				var out struct {
					Targets []struct{ Month, Metric string }
				}
				if err := json.Unmarshal(b, &out); err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, x := range out.Targets {
					names = append(names, x.Month+"/"+x.Metric)
				}
				return names
			}
			status, b := s.do(t, "DELETE", "/api/v1/targets/2026-04?metric=sqls", "", nil)
			if status != 200 || !strings.Contains(string(b), `"deleted":1`) {
				t.Fatalf("delete one metric: %d %s", status, b)
			}
			if got := strings.Join(targets(), ","); got != "2026-04/mqls,2026-05/mqls" {
				t.Fatalf("after deleting sqls: %s", got)
			}
			if status, b := s.do(t, "DELETE", "/api/v1/targets/2026-04?metric=sqls", "", nil); status != 404 ||
				!strings.Contains(string(b), "no sqls target for 2026-04") {
				t.Fatalf("delete absent metric: %d %s", status, b)
			}
			if status, b := s.do(t, "DELETE", "/api/v1/targets/2026-04", "", nil); status != 200 || !strings.Contains(string(b), `"deleted":1`) {
				t.Fatalf("delete month: %d %s", status, b)
			}
			if got := strings.Join(targets(), ","); got != "2026-05/mqls" {
				t.Fatalf("after deleting 2026-04: %s", got)
			}
			status, b = s.do(t, "DELETE", "/api/v1/targets/2026-04", "", nil)
			if status != 404 || !strings.Contains(string(b), "no targets for 2026-04") {
				t.Fatalf("delete absent month: %d %s", status, b)
			}
			if !strings.Contains(string(b), `"status":404`) {
				t.Fatalf("not a problem document: %s", b)
			}
			if status, b := s.do(t, "DELETE", "/api/v1/targets/April", "", nil); status != 400 || !strings.Contains(string(b), "YYYY-MM") {
				t.Fatalf("bad month: %d %s", status, b)
			}
		})
	}
}
