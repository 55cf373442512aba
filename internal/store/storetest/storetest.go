// Package storetest opens real databases for tests: a temp-file SQLite
// database and, when LEADFLOW_TEST_POSTGRES is set, a fresh PostgreSQL
// schema per test. With LEADFLOW_TEST_STRICT=1 a missing PostgreSQL fails
// the test instead of skipping it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/store"
)

// Backend is one database the suite runs on.
type Backend struct {
	Name string
	// DSN opens the backend; empty Dir means DSN is complete.
	DSN string
	Dir string
}

// Strict reports whether integration tests must not skip.
func Strict() bool { return os.Getenv("LEADFLOW_TEST_STRICT") == "1" }

// Backends returns the databases to run against: sqlite always, postgres
// when configured.
func Backends() []string {
	return []string{"sqlite", "postgres"}
}

// Each runs fn as a subtest on each backend with a fresh, migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, name := range Backends() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, name))
		})
	}
}

// DSN returns a connection string for a fresh database of the backend
// (a temp-file SQLite path or a PostgreSQL URL with a new search_path
// schema, dropped when the test ends).
func DSN(t testing.TB, backend string) string {
	t.Helper()
	if backend == "sqlite" {
		return filepath.Join(t.TempDir(), "leadflow.db")
	}
	base := os.Getenv("LEADFLOW_TEST_POSTGRES")
	if base == "" {
		if Strict() {
			t.Fatal("LEADFLOW_TEST_POSTGRES is not set and LEADFLOW_TEST_STRICT=1: PostgreSQL tests must run")
		}
		t.Skip("set LEADFLOW_TEST_POSTGRES=postgres://… to run the PostgreSQL tests")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "lftest_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		if Strict() {
			t.Fatalf("postgres at %s: %v", base, err)
		}
		t.Skipf("postgres at %s unreachable: %v", base, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err == nil {
			_, _ = a.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			a.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("LEADFLOW_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a fresh migrated database on the backend, closed at the end
// of the test.
func Open(t testing.TB, backend string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{DSN: DSN(t, backend)})
	if err != nil {
		t.Fatalf("open %s: %v", backend, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", backend, err)
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate jobs %s: %v", backend, err)
	}
	if err := db.CheckQueries(ctx); err != nil {
		t.Fatalf("queries %s: %v", backend, err)
	}
	return db
}
