package store_test

import (
	"context"
	"testing"

	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

// TestAPIKeysBecomeAdmin: an API key created before keys had roles
// (schema 00007) is an admin key after migration 00008, so nothing that
// worked stops working.
func TestAPIKeysBecomeAdmin(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, backend)
			db, err := store.Open(ctx, store.Options{DSN: dsn, DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := store.MigrateUpTo(ctx, db, 7); err != nil {
				t.Fatal(err)
			}
			key := store.NewSecret(store.APIKeyPrefix)
			if _, err := db.Write.ExecContext(ctx, "INSERT INTO api_keys (name, key_hash, prefix, created_at) VALUES ('old', '"+
				store.HashKey(key)+"', '"+key[:8]+"', 1)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			k, err := db.APIKeyByKey(ctx, key)
			if err != nil || k.Role != store.RoleAdmin || k.Name != "old" {
				t.Fatalf("old key after the migration: %+v %v", k, err)
			}
			srcs, err := db.Sources(ctx)
			if err != nil || len(srcs) != 0 {
				t.Fatalf("sources %v %v", srcs, err)
			}
		})
	}
}
