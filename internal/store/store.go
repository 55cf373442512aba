// Package store keeps leadflow's data in SQLite (the embedded default) or
// PostgreSQL. All SQL lives here: named queries in queries/*.sql, migrations
// in migrations/<dialect>/, and the few dialect differences in dialect.go.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/leadflow/leadflow"
)

//go:embed migrations
var migrationsFS embed.FS

// DB is an open leadflow database. On SQLite, writes go through a single
// connection (Write) and reads through a pool (Read); on PostgreSQL both
// are the same pool.
type DB struct {
	Write   *sql.DB
	Read    *sql.DB
	Dialect Dialect
	q       queries
	stmts   map[string]*sql.Stmt // prepared on Write by CheckQueries
	byText  map[string]*sql.Stmt // the same, by statement text
	// Now is the clock; tests replace it.
	Now func() time.Time

	ckpt   *checkpointer // SQLite: checkpoints the WAL when the writer is idle
	recent *recentMsgs   // message ids of the last events stored
}

// Options configure Open.
type Options struct {
	// DSN is a postgres:// URL, a sqlite path ("file:…" or a plain path), or
	// empty for DataDir/leadflow.db.
	DSN     string
	DataDir string
}

// Open connects, checks the connection and prepares every named query so
// that a broken query fails start-up, not a request. It does not migrate.
func Open(ctx context.Context, opts Options) (*DB, error) {
	db, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := db.q.load(db.Dialect); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func open(ctx context.Context, opts Options) (*DB, error) {
	dsn := opts.DSN
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		pool, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, unavailable(err, "postgres")
		}
		pool.SetMaxOpenConns(16)
		pool.SetMaxIdleConns(16)
		pool.SetConnMaxIdleTime(5 * time.Minute)
		db := &DB{Write: pool, Read: pool, Dialect: Postgres, Now: time.Now, recent: newRecentMsgs()}
		if err := ping(ctx, pool); err != nil {
			pool.Close()
			return nil, unavailable(err, redact(dsn))
		}
		return db, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		dir := opts.DataDir
		if dir == "" {
			dir = "data"
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, leadflow.Errorf(leadflow.EUNAVAILABLE, "cannot create data directory %s: %v", dir, err)
		}
		path = filepath.Join(dir, "leadflow.db")
	} else if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, leadflow.Errorf(leadflow.EUNAVAILABLE, "sqlite directory %s: %v", dir, err)
		}
	}
	// busy_timeout comes first so that the other pragmas wait for locks too.
	common := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)"
	// The writer keeps up to 256 MiB of pages cached (filled on demand; the
	// default 2 MiB sends most index lookups of a grown database to
	// read(2), and 64 MiB was outgrown by 200,000 events) and checkpoints the
	// WAL every walPages pages (checkpoint.go).
	w, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)"+
		fmt.Sprintf("&_pragma=cache_size(-262144)&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)", walPages, walKeepBytes)+
		"&_txlock=immediate")
	if err != nil {
		return nil, unavailable(err, path)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := ping(ctx, w); err != nil {
		w.Close()
		return nil, unavailable(err, path)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, unavailable(err, path)
	}
	r.SetMaxOpenConns(4)
	db := &DB{Write: w, Read: r, Dialect: SQLite, Now: time.Now, recent: newRecentMsgs()}
	db.startCheckpointer()
	return db, nil
}

func ping(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

func unavailable(err error, where string) error {
	return &leadflow.Error{Code: leadflow.EUNAVAILABLE, Message: fmt.Sprintf("database %s is unreachable: %v", where, err), Err: err}
}

// redact hides a password in a URL for messages.
func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i > 0 {
		if j := strings.Index(dsn, "://"); j > 0 && j < i {
			user := dsn[j+3 : i]
			if k := strings.IndexByte(user, ':'); k >= 0 {
				return dsn[:j+3] + user[:k] + ":***" + dsn[i:]
			}
		}
	}
	return dsn
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stopCheckpointer()
	for _, st := range db.stmts {
		st.Close()
	}
	err := db.Write.Close()
	if db.Read != db.Write {
		err = errors.Join(err, db.Read.Close())
	}
	return err
}

// Migrate applies the embedded migrations that are not applied yet, each in
// its own transaction, and reports the resulting version.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+db.Dialect.Name)
	if err != nil {
		return 0, err
	}
	gd := goose.DialectSQLite3
	if db.Dialect == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, db.Write, sub)
	if err != nil {
		return 0, leadflow.Internal(err, "migrations")
	}
	done := db.noticeCompactBackfill(ctx, p)
	if _, err := p.Up(ctx); err != nil {
		return 0, leadflow.Internal(err, "migrate")
	}
	done()
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, leadflow.Internal(err, "migration version")
	}
	return v, nil
}

// CheckQueries prepares every named query once so that a query that does
// not match the schema fails at start-up, not in a request. Call it after
// all migrations (leadflow's and River's).
func (db *DB) CheckQueries(ctx context.Context) error {
	if err := db.q.prepareCheck(ctx, db.Read); err != nil {
		return err
	}
	// Statements run in write transactions are prepared once on the write
	// pool and reused: parsing every statement again costs a fifth of the
	// ingestion CPU on SQLite.
	stmts := make(map[string]*sql.Stmt, len(db.q))
	for name, text := range db.q {
		st, err := db.Write.PrepareContext(ctx, text)
		if err != nil {
			for _, s := range stmts {
				s.Close()
			}
			return &leadflow.Error{Code: leadflow.EINTERNAL, Message: fmt.Sprintf("query %s does not prepare", name), Err: err}
		}
		stmts[name] = st
	}
	db.stmts = stmts
	db.byText = make(map[string]*sql.Stmt, len(stmts))
	for name, st := range stmts {
		db.byText[db.q[name]] = st
	}
	return nil
}

// us converts a time to unix microseconds, the storage form of every time.
func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromUS converts unix microseconds back to a UTC time; 0 is the zero time.
func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
