package store

import (
	"context"
	"time"
)

// Assignment is one change of a lead's owner (or queue): who got it, by
// which rule, from whom, caused by whom, when.
type Assignment struct {
	ID     int64  `json:"id"`
	LeadID int64  `json:"lead_id"`
	Owner  string `json:"owner" doc:"User name; empty when the lead went to a queue"`
	Team   string `json:"team"`
	Queue  string `json:"queue,omitempty" doc:"Fallback queue when no rule matched"`
	// Rule is the routing rule id, "fallback", "manual", or another cause
	// such as "sla:<policy>" for an escalation.
	Rule          string    `json:"rule"`
	PreviousOwner string    `json:"previous_owner"`
	Actor         string    `json:"actor"`
	At            time.Time `json:"at"`
}

func scanAssignment(r rowScanner) (*Assignment, error) {
	var a Assignment
	var at int64
	if err := r.Scan(&a.ID, &a.LeadID, &a.Owner, &a.Team, &a.Queue, &a.Rule, &a.PreviousOwner, &a.Actor, &at); err != nil {
		return nil, wrapDB(err, "scan assignment")
	}
	a.At = fromUS(at)
	return &a, nil
}

// InsertAssignment records a; At defaults to the transaction's time.
func (tx *Tx) InsertAssignment(ctx context.Context, a *Assignment) error {
	if a.At.IsZero() {
		a.At = tx.Now
	}
	err := tx.queryRow(ctx, "AssignmentInsert", a.LeadID, a.Owner, a.Team, a.Queue, a.Rule,
		a.PreviousOwner, a.Actor, us(a.At)).Scan(&a.ID)
	return wrapDB(err, "insert assignment")
}

// LatestAssignment returns the newest assignment of a lead, or ENOTFOUND.
func (tx *Tx) LatestAssignment(ctx context.Context, leadID int64) (*Assignment, error) {
	a, err := scanAssignment(tx.queryRow(ctx, "AssignmentLatest", leadID))
	return a, notFound(err, "lead %d was never assigned", leadID)
}

// AssignmentsOfLead lists a lead's assignments, oldest first.
func (db *DB) AssignmentsOfLead(ctx context.Context, leadID int64) ([]Assignment, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("AssignmentsOfLead"), leadID)
	if err != nil {
		return nil, wrapDB(err, "assignments")
	}
	defer rows.Close()
	out := []Assignment{}
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, wrapDB(rows.Err(), "assignments")
}
