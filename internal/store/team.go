package store

import (
	"context"
	"time"

	"github.com/leadflow/leadflow"
)

// Team is a group of users that routing assigns to as one (round robin or
// least loaded). Members are the users whose Team is the team's name.
type Team struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Manager is the user name escalations go to; "" when none.
	Manager string `json:"manager"`
	// RoundRobinLast is the member routing picked last; the next pick is
	// the next active member after it in name order.
	RoundRobinLast string    `json:"round_robin_last"`
	CreatedAt      time.Time `json:"created_at"`
}

// TeamUpdate is a partial update of a team.
type TeamUpdate struct {
	Manager *string `json:"manager,omitempty" doc:"User name of the manager; empty string for none"`
}

func scanTeam(r rowScanner) (*Team, error) {
	var t Team
	var at int64
	if err := r.Scan(&t.ID, &t.Name, &t.Manager, &t.RoundRobinLast, &at); err != nil {
		return nil, wrapDB(err, "scan team")
	}
	t.CreatedAt = fromUS(at)
	return &t, nil
}

// checkManager verifies that a manager named by a team exists.
func (tx *Tx) checkManager(ctx context.Context, manager string) error {
	if manager == "" {
		return nil
	}
	if _, err := tx.FindUser(ctx, manager); leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return leadflow.Invalidf("/manager", "unknown user %q", manager)
	} else if err != nil {
		return err
	}
	return nil
}

// CreateTeam stores t and audits it as done by `by`. A taken name is
// ECONFLICT; an unknown manager EINVALID.
func (tx *Tx) CreateTeam(ctx context.Context, t *Team, by string) error {
	if err := ValidName("/name", "name", t.Name); err != nil {
		return err
	}
	if err := tx.checkManager(ctx, t.Manager); err != nil {
		return err
	}
	t.CreatedAt, t.RoundRobinLast = tx.Now, ""
	err := tx.queryRow(ctx, "TeamInsert", t.Name, t.Manager, us(tx.Now)).Scan(&t.ID)
	if err = wrapDB(err, "insert team"); leadflow.ErrorCode(err) == leadflow.ECONFLICT {
		return &leadflow.Error{Code: leadflow.ECONFLICT, Where: "/name", Message: "a team named " + t.Name + " already exists"}
	} else if err != nil {
		return err
	}
	return tx.Audit(ctx, by, "team.create", "team", t.ID, t.Name)
}

// UpdateTeam applies up to the team called name.
func (tx *Tx) UpdateTeam(ctx context.Context, name string, up TeamUpdate, by string) (*Team, error) {
	t, err := tx.FindTeam(ctx, name)
	if err != nil {
		return nil, err
	}
	if up.Manager != nil && *up.Manager != t.Manager {
		if err := tx.checkManager(ctx, *up.Manager); err != nil {
			return nil, err
		}
		t.Manager = *up.Manager
	}
	if _, err := tx.exec(ctx, "TeamUpdate", t.Manager, t.Name); err != nil {
		return nil, err
	}
	return t, tx.Audit(ctx, by, "team.update", "team", t.ID, t.Name)
}

// FindTeam returns the team called name, or ENOTFOUND.
func (tx *Tx) FindTeam(ctx context.Context, name string) (*Team, error) {
	t, err := scanTeam(tx.queryRow(ctx, "TeamByName", name))
	return t, notFound(err, "team %s not found", name)
}

// FindTeam reads a team outside a transaction.
func (db *DB) FindTeam(ctx context.Context, name string) (*Team, error) {
	t, err := scanTeam(db.queryRow(ctx, "TeamByName", name))
	return t, notFound(err, "team %s not found", name)
}

// Teams lists every team by name.
func (db *DB) Teams(ctx context.Context) ([]Team, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("TeamList"))
	if err != nil {
		return nil, wrapDB(err, "list teams")
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, wrapDB(rows.Err(), "list teams")
}

// LockTeam holds the team's row until the transaction ends, so that
// concurrent routings within one team see each other's picks and counts.
// An unknown team is not an error (there is nothing to lock).
func (tx *Tx) LockTeam(ctx context.Context, name string) error {
	_, err := tx.exec(ctx, "TeamLock", name)
	return err
}

// SetRoundRobinLast records the member routing picked last in team.
func (tx *Tx) SetRoundRobinLast(ctx context.Context, team, user string) error {
	res, err := tx.exec(ctx, "TeamSetRoundRobin", user, team)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "team %s not found", team)
	}
	return nil
}
