package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"time"

	"github.com/leadflow/leadflow"
)

// Tx is one write transaction. Now is fixed when the transaction starts so
// that every row it writes carries the same time.
type Tx struct {
	*sql.Tx
	db  *DB
	Now time.Time

	keys map[int64]leadKeys // of the leads read or written (UpdateLeads)
}

// DB returns the database the transaction belongs to.
func (tx *Tx) DB() *DB { return tx.db }

// InTx runs fn in a write transaction and commits it when fn returns nil.
// A transaction that fails because SQLite was busy or PostgreSQL found a
// serialization conflict is retried a few times.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.inTx(ctx, fn)
		if err == nil || !(isBusy(err) || isSerialization(err)) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
	return err
}

func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	stx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return wrapDB(err, "begin")
	}
	tx := &Tx{Tx: stx, db: db, Now: db.Now().UTC()}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return wrapDB(err, "commit")
	}
	db.committed()
	return nil
}

// exec runs a named statement.
func (tx *Tx) exec(ctx context.Context, name string, args ...any) (sql.Result, error) {
	if st, ok := tx.db.stmts[name]; ok {
		res, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		return res, wrapDB(err, name)
	}
	res, err := tx.ExecContext(ctx, tx.db.q.get(name), args...)
	return res, wrapDB(err, name)
}

// query runs a named query that returns rows.
func (tx *Tx) query(ctx context.Context, name string, args ...any) (*sql.Rows, error) {
	if st, ok := tx.db.stmts[name]; ok {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, tx.db.q.get(name), args...)
}

// prepared is the transaction as a querier that runs a named query's text
// through its statement prepared by CheckQueries (for helpers shared with
// the read pool, which pass the text).
type prepared struct{ tx *Tx }

func (p prepared) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st, ok := p.tx.db.byText[text]; ok {
		return p.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, text, args...)
}

func (tx *Tx) queryRow(ctx context.Context, name string, args ...any) *sql.Row {
	if st, ok := tx.db.stmts[name]; ok {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, tx.db.q.get(name), args...)
}

func (db *DB) queryRow(ctx context.Context, name string, args ...any) *sql.Row {
	return db.Read.QueryRowContext(ctx, db.q.get(name), args...)
}

// wrapDB turns a driver error into a leadflow error, keeping busy and
// serialization errors recognisable for the retry in InTx.
func wrapDB(err error, op string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return leadflow.Errorf(leadflow.ENOTFOUND, "not found")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var le *leadflow.Error
	if errors.As(err, &le) {
		return err
	}
	if isUnique(err) {
		return &leadflow.Error{Code: leadflow.ECONFLICT, Message: "already exists", Err: err}
	}
	return &leadflow.Error{Code: leadflow.EINTERNAL, Message: "database: " + op, Err: err}
}

// LockKeys serialises the transactions that touch the same keys (user ids,
// anonymous ids, emails): on PostgreSQL it takes transaction-scoped advisory
// locks in sorted order, so concurrent batches naming the same people wait
// for each other instead of deadlocking. SQLite's single writer already
// serialises every transaction, so there it does nothing.
func (tx *Tx) LockKeys(ctx context.Context, keys []string) error {
	if tx.db.Dialect != Postgres || len(keys) == 0 {
		return nil
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	sorted = slices.Compact(sorted)
	arg, err := json.Marshal(sorted)
	if err != nil {
		return leadflow.Internal(err, "lock keys")
	}
	// One statement for all the keys (not a round trip each), locking in
	// the array's order.
	_, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS t(k, n) ORDER BY n`, string(arg))
	return wrapDB(err, "lock keys")
}
