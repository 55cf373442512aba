package store

import (
	"context"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// MigrateUpTo applies the migrations up to version v only (tests of an
// upgrade from an older schema).
func MigrateUpTo(ctx context.Context, db *DB, v int64) error {
	sub, err := fs.Sub(migrationsFS, "migrations/"+db.Dialect.Name)
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	if db.Dialect == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, db.Write, sub)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, v)
	return err
}
