package store

import (
	"context"

	"github.com/leadflow/leadflow"
)

// SetPassword stores the password hash (made by internal/auth) of the user
// called name, ends the user's sessions so that a changed password logs
// everybody out, and audits it as done by `by`.
func (tx *Tx) SetPassword(ctx context.Context, name, hash, by string) error {
	res, err := tx.exec(ctx, "PasswordSet", hash, us(tx.Now), name)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return leadflow.Internal(err, "rows affected")
	} else if n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "user %s not found", name)
	}
	if err := tx.DeleteSessionsOfUser(ctx, name); err != nil {
		return err
	}
	return tx.Audit(ctx, by, "user.password", "user", 0, name)
}

// PasswordHash returns the password hash of an active user; ENOTFOUND
// when the user does not exist or is inactive, "" when no password is set.
func (db *DB) PasswordHash(ctx context.Context, name string) (string, error) {
	var hash string
	var active bool
	err := db.queryRow(ctx, "PasswordOfUser", name).Scan(&hash, &active)
	if err != nil {
		return "", notFound(wrapDB(err, "password"), "user %s not found", name)
	}
	if !active {
		return "", leadflow.Errorf(leadflow.ENOTFOUND, "user %s not found", name)
	}
	return hash, nil
}

// CountAdminsWithPassword counts the active admins who can log in; zero
// means the UI has no way in yet and a first admin must be created.
func (tx *Tx) CountAdminsWithPassword(ctx context.Context) (int, error) {
	var n int
	err := tx.queryRow(ctx, "PasswordUsersCount", true, RoleAdmin).Scan(&n)
	return n, wrapDB(err, "count admins")
}
