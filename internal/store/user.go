package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadflow/leadflow"
)

// User roles.
const (
	RoleAdmin     = "admin"
	RoleMarketing = "marketing"
	RoleSales     = "sales"
	RoleManager   = "manager"
	RoleViewer    = "viewer"
)

// Roles lists every role, for validation and help texts.
var Roles = []string{RoleAdmin, RoleMarketing, RoleSales, RoleManager, RoleViewer}

// Limits of user and team fields.
const (
	maxNameLen     = 100
	maxDisplayLen  = 200
	maxOpenLimit   = 100_000
	maxEmailLength = 254
)

// User is a person leads are assigned to. Users are referenced by Name
// (leads.owner, teams.manager, routing rules); the name never changes.
// The password hash is never read into this struct.
type User struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Role        string `json:"role"`
	Team        string `json:"team"`
	Active      bool   `json:"active"`
	// MaxOpenLeads caps the open leads (mql, sal, sql, hql) routing gives
	// the user; 0 means no limit.
	MaxOpenLeads int       `json:"max_open_leads"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// UserUpdate is a partial update: nil fields are left unchanged.
type UserUpdate struct {
	DisplayName  *string `json:"display_name,omitempty"`
	Email        *string `json:"email,omitempty"`
	Role         *string `json:"role,omitempty"`
	Team         *string `json:"team,omitempty" doc:"Team name; empty string for none"`
	Active       *bool   `json:"active,omitempty" doc:"false deactivates: routing skips the user"`
	MaxOpenLeads *int    `json:"max_open_leads,omitempty" doc:"0 for no limit"`
}

// UserFilter selects users; zero values select everyone.
type UserFilter struct {
	Team   string
	Active *bool
}

// ValidName checks a user or team name: what a URL path, a YAML file and
// a CLI flag all carry without quoting.
func ValidName(where, what, name string) error {
	switch {
	case name == "":
		return leadflow.Invalidf(where, "%s is required", what)
	case utf8.RuneCountInString(name) > maxNameLen:
		return leadflow.Invalidf(where, "%s is longer than %d characters", what, maxNameLen)
	case strings.ContainsFunc(name, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r))
	}):
		return leadflow.Invalidf(where, "%s %q may hold only letters, digits, '.', '_', '-' and '@'", what, name)
	}
	return nil
}

func (u *User) validate() error {
	u.Email = NormalizeEmail(u.Email)
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	if err := ValidName("/name", "name", u.Name); err != nil {
		return err
	}
	if !slices.Contains(Roles, u.Role) {
		return leadflow.Invalidf("/role", "unknown role %q (one of %s)", u.Role, strings.Join(Roles, ", "))
	}
	if u.Email != "" {
		local, domain, ok := strings.Cut(u.Email, "@")
		if !ok || local == "" || domain == "" || strings.ContainsAny(u.Email, " \t\r\n") || len(u.Email) > maxEmailLength {
			return leadflow.Invalidf("/email", "%q is not an email address", u.Email)
		}
	}
	if utf8.RuneCountInString(u.DisplayName) > maxDisplayLen {
		return leadflow.Invalidf("/display_name", "display name is longer than %d characters", maxDisplayLen)
	}
	if u.MaxOpenLeads < 0 || u.MaxOpenLeads > maxOpenLimit {
		return leadflow.Invalidf("/max_open_leads", "max open leads must be between 0 (no limit) and %d", maxOpenLimit)
	}
	return nil
}

// checkTeam verifies that a team named by a user exists.
func (tx *Tx) checkTeam(ctx context.Context, team string) error {
	if team == "" {
		return nil
	}
	if _, err := tx.FindTeam(ctx, team); leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return leadflow.Invalidf("/team", "unknown team %q (create it first)", team)
	} else if err != nil {
		return err
	}
	return nil
}

func scanUser(r rowScanner) (*User, error) {
	var u User
	var created, updated int64
	if err := r.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Email, &u.Role, &u.Team, &u.Active,
		&u.MaxOpenLeads, &created, &updated); err != nil {
		return nil, wrapDB(err, "scan user")
	}
	u.CreatedAt, u.UpdatedAt = fromUS(created), fromUS(updated)
	return &u, nil
}

// CreateUser validates and stores u as an active user and audits it as
// done by `by`. A taken name is ECONFLICT; an unknown team EINVALID.
func (tx *Tx) CreateUser(ctx context.Context, u *User, by string) error {
	u.Active = true
	if err := u.validate(); err != nil {
		return err
	}
	if err := tx.checkTeam(ctx, u.Team); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = tx.Now, tx.Now
	err := tx.queryRow(ctx, "UserInsert", u.Name, u.DisplayName, u.Email, u.Role, u.Team, u.Active,
		u.MaxOpenLeads, us(tx.Now), us(tx.Now)).Scan(&u.ID)
	if err = wrapDB(err, "insert user"); leadflow.ErrorCode(err) == leadflow.ECONFLICT {
		return &leadflow.Error{Code: leadflow.ECONFLICT, Where: "/name", Message: "a user named " + u.Name + " already exists"}
	} else if err != nil {
		return err
	}
	return tx.Audit(ctx, by, "user.create", "user", u.ID, u.Name)
}

// UpdateUser applies up to the user called name and returns the result.
func (tx *Tx) UpdateUser(ctx context.Context, name string, up UserUpdate, by string) (*User, error) {
	u, err := tx.FindUser(ctx, name)
	if err != nil {
		return nil, err
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.DisplayName, up.DisplayName)
	set(&u.Email, up.Email)
	set(&u.Role, up.Role)
	teamChanged := up.Team != nil && *up.Team != u.Team
	set(&u.Team, up.Team)
	if up.Active != nil {
		u.Active = *up.Active
	}
	if up.MaxOpenLeads != nil {
		u.MaxOpenLeads = *up.MaxOpenLeads
	}
	if err := u.validate(); err != nil {
		return nil, err
	}
	if teamChanged {
		if err := tx.checkTeam(ctx, u.Team); err != nil {
			return nil, err
		}
	}
	u.UpdatedAt = tx.Now
	if _, err := tx.exec(ctx, "UserUpdate", u.DisplayName, u.Email, u.Role, u.Team, u.Active,
		u.MaxOpenLeads, us(tx.Now), u.Name); err != nil {
		return nil, err
	}
	return u, tx.Audit(ctx, by, "user.update", "user", u.ID, u.Name)
}

// FindUser returns the user called name, or ENOTFOUND.
func (tx *Tx) FindUser(ctx context.Context, name string) (*User, error) {
	u, err := scanUser(tx.queryRow(ctx, "UserByName", name))
	return u, notFound(err, "user %s not found", name)
}

// FindUser reads a user outside a transaction.
func (db *DB) FindUser(ctx context.Context, name string) (*User, error) {
	u, err := scanUser(db.queryRow(ctx, "UserByName", name))
	return u, notFound(err, "user %s not found", name)
}

func (db *DB) users(ctx context.Context, q querier, f UserFilter) ([]User, error) {
	active := false
	if f.Active != nil {
		active = *f.Active
	}
	rows, err := q.QueryContext(ctx, db.q.get("UserList"), f.Team == "", f.Team, f.Active == nil, active)
	if err != nil {
		return nil, wrapDB(err, "list users")
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, wrapDB(rows.Err(), "list users")
}

// Users lists users by name.
func (db *DB) Users(ctx context.Context, f UserFilter) ([]User, error) {
	return db.users(ctx, db.Read, f)
}

// Users lists users inside a transaction.
func (tx *Tx) Users(ctx context.Context, f UserFilter) ([]User, error) {
	return tx.db.users(ctx, tx.Tx, f)
}

func (db *DB) openLeadCounts(ctx context.Context, q querier, team string) (map[string]int, error) {
	var rows *sql.Rows
	var err error
	if team == "" {
		rows, err = q.QueryContext(ctx, db.q.get("OpenLeadCountsAll"))
	} else {
		rows, err = q.QueryContext(ctx, db.q.get("OpenLeadCountsOfTeam"), team)
	}
	if err != nil {
		return nil, wrapDB(err, "open lead counts")
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var owner string
		var n int
		if err := rows.Scan(&owner, &n); err != nil {
			return nil, wrapDB(err, "open lead counts")
		}
		out[owner] = n
	}
	return out, wrapDB(rows.Err(), "open lead counts")
}

// OpenLeadCounts returns how many open leads (mql, sal, sql, hql) each
// member of team owns; team "" counts every owner. Users without open
// leads are absent (count 0).
func (db *DB) OpenLeadCounts(ctx context.Context, team string) (map[string]int, error) {
	return db.openLeadCounts(ctx, db.Read, team)
}

// OpenLeadCounts counts inside a transaction, seeing its own writes.
func (tx *Tx) OpenLeadCounts(ctx context.Context, team string) (map[string]int, error) {
	return tx.db.openLeadCounts(ctx, tx.Tx, team)
}

// OpenLeadCount returns how many open leads one user owns.
func (tx *Tx) OpenLeadCount(ctx context.Context, owner string) (int, error) {
	var n int
	err := tx.queryRow(ctx, "OpenLeadCountOfOwner", owner).Scan(&n)
	return n, wrapDB(err, "open lead count")
}
