package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestAPIKeyRoleCLI: `leadflow apikey create --name NAME --role ROLE
// [--user USER]` prints the key alone; the key has the role (admin by
// default) and the user (by name or email); an unknown role, a sales key of
// no user, a key of more power than its user are errors with a message.
func TestAPIKeyRoleCLI(t *testing.T) {
	for _, backend := range backends() {
		t.Run(backend, func(t *testing.T) {
			dsn := storetest.DSN(t, backend)
			env := map[string]string{"LEADFLOW_DB": dsn, "LEADFLOW_DATA_DIR": t.TempDir()}
			cli := func(args ...string) (string, string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
				return out.String(), errOut.String(), err
			}
			ctx := context.Background()
			if _, errOut, err := cli("user", "create", "--name", "rep", "--role", "sales", "--email", "rep@example.co.jp"); err != nil {
				t.Fatalf("user create: %v %s", err, errOut)
			}
			for _, tc := range []struct {
				args       []string
				role, user string
			}{
				{[]string{"apikey", "create", "--name", "crm", "--role", "sales", "--user", "rep@example.co.jp"}, "sales", "rep"},
				{[]string{"apikey", "create", "--name", "ci"}, "admin", ""},
			} {
				out, errOut, err := cli(tc.args...)
				if err != nil {
					t.Fatalf("%v: %v %s", tc.args, err, errOut)
				}
				key := strings.TrimSpace(out)
				if strings.Count(out, "\n") != 1 || !strings.HasPrefix(key, store.APIKeyPrefix) {
					t.Fatalf("%v printed %q", tc.args, out)
				}
				db, err := store.Open(ctx, store.Options{DSN: dsn, DataDir: env["LEADFLOW_DATA_DIR"]})
				if err != nil {
					t.Fatal(err)
				}
				k, err := db.APIKeyByKey(ctx, key)
				db.Close()
				if err != nil || k.Role != tc.role || k.User != tc.user {
					t.Fatalf("%v: key %+v %v, want role %s user %q", tc.args, k, err, tc.role, tc.user)
				}
			}
			out, errOut, err := cli("apikey", "create", "--name", "x", "--role", "root")
			if err == nil || exitCode(err) == 0 || out != "" || !strings.Contains(message(err)+errOut, "unknown role") {
				t.Fatalf("unknown role: %v %q %q", err, out, errOut)
			}
			// A sales key of no one, or of a user who may not do what the
			// role does, is refused and nothing is created.
			for _, args := range [][]string{
				{"apikey", "create", "--name", "x", "--role", "sales"},
				{"apikey", "create", "--name", "x", "--role", "manager", "--user", "rep"},
				{"apikey", "create", "--name", "x", "--role", "sales", "--user", "nobody"},
			} {
				out, errOut, err := cli(args...)
				if err == nil || exitCode(err) == 0 || out != "" || !strings.Contains(message(err)+errOut, "user") {
					t.Errorf("%v: %v %q %q", args, err, out, errOut)
				}
			}
		})
	}
}
