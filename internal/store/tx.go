package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/leadflow/leadflow"
)

// Tx is one write transaction. Now is fixed when the transaction starts so
// that every row it writes carries the same time.
type Tx struct {
	*sql.Tx
	db  *DB
	Now time.Time
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
	return nil
}

// exec runs a named statement.
func (tx *Tx) exec(ctx context.Context, name string, args ...any) (sql.Result, error) {
	res, err := tx.ExecContext(ctx, tx.db.q.get(name), args...)
	return res, wrapDB(err, name)
}

func (tx *Tx) queryRow(ctx context.Context, name string, args ...any) *sql.Row {
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
