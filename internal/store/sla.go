package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// SLA clock statuses.
const (
	ClockRunning  = "running"
	ClockMet      = "met"
	ClockBreached = "breached"
	ClockCanceled = "canceled"
)

// SLAClock is one SLA clock: a lead entered Stage at StartedAt and Policy
// gives it until DueAt. Deadlines are computed in business time when the
// clock starts and never move afterwards.
type SLAClock struct {
	ID        int64          `json:"id"`
	LeadID    int64          `json:"lead_id"`
	Stage     leadflow.Stage `json:"stage"`
	Policy    string         `json:"policy"`
	Owner     string         `json:"owner"`
	StartedAt time.Time      `json:"started_at"`
	// WarnAt is zero when the policy sends no warning.
	WarnAt time.Time `json:"warn_at,omitzero"`
	DueAt  time.Time `json:"due_at"`
	// Status is running, met, breached or canceled.
	Status string `json:"status"`
	// StoppedAt is when the target was reached or the lead left the
	// stage; a breached clock gets it too when the lead is touched late.
	StoppedAt  *time.Time `json:"stopped_at,omitempty"`
	WarnedAt   *time.Time `json:"warned_at,omitempty"`
	BreachedAt *time.Time `json:"breached_at,omitempty"`
	StoppedBy  string     `json:"stopped_by,omitempty"`
}

const clockColumns = `id, lead_id, stage, policy, owner, started_at, warn_at, due_at, status,
       stopped_at, warned_at, breached_at, stopped_by`

func scanClock(r rowScanner) (*SLAClock, error) {
	var (
		c                         SLAClock
		stage                     string
		started, warn, due        int64
		stopped, warned, breached sql.NullInt64
	)
	if err := r.Scan(&c.ID, &c.LeadID, &stage, &c.Policy, &c.Owner, &started, &warn, &due, &c.Status,
		&stopped, &warned, &breached, &c.StoppedBy); err != nil {
		return nil, err
	}
	c.Stage = leadflow.Stage(stage)
	c.StartedAt, c.WarnAt, c.DueAt = fromUS(started), fromUS(warn), fromUS(due)
	c.StoppedAt, c.WarnedAt, c.BreachedAt = optUS(stopped), optUS(warned), optUS(breached)
	return &c, nil
}

func optUS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromUS(v.Int64)
	return &t
}

func scanClocks(rows *sql.Rows, err error, op string) ([]SLAClock, error) {
	if err != nil {
		return nil, wrapDB(err, op)
	}
	defer rows.Close()
	var out []SLAClock
	for rows.Next() {
		c, err := scanClock(rows)
		if err != nil {
			return nil, wrapDB(err, op)
		}
		out = append(out, *c)
	}
	return out, wrapDB(rows.Err(), op)
}

// StartClock inserts a running clock and sets its ID and Status.
func (tx *Tx) StartClock(ctx context.Context, c *SLAClock) error {
	if c.LeadID == 0 || c.Policy == "" || c.DueAt.IsZero() {
		return leadflow.Errorf(leadflow.EINVALID, "an SLA clock needs a lead, a policy and a deadline")
	}
	err := tx.queryRow(ctx, "ClockInsert", c.LeadID, string(c.Stage), c.Policy, c.Owner,
		us(c.StartedAt), us(c.WarnAt), us(c.DueAt)).Scan(&c.ID)
	if err != nil {
		return wrapDB(err, "start SLA clock")
	}
	c.Status = ClockRunning
	return nil
}

// ClockByID reads one clock.
func (tx *Tx) ClockByID(ctx context.Context, id int64) (*SLAClock, error) {
	c, err := scanClock(tx.queryRow(ctx, "ClockByID", id))
	return c, notFound(wrapDB(err, "SLA clock"), "SLA clock %d not found", id)
}

// ClockByID reads one clock.
func (db *DB) ClockByID(ctx context.Context, id int64) (*SLAClock, error) {
	c, err := scanClock(db.queryRow(ctx, "ClockByID", id))
	return c, notFound(wrapDB(err, "SLA clock"), "SLA clock %d not found", id)
}

// ClocksOfLead lists every clock of a lead, oldest first.
func (db *DB) ClocksOfLead(ctx context.Context, leadID int64) ([]SLAClock, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("ClocksOfLead"), leadID)
	return scanClocks(rows, err, "clocks of lead")
}

// OpenClocksOfLead lists the clocks of a lead that still wait for their
// target: running ones, and breached ones not yet stopped (a late touch
// still records when it came).
func (tx *Tx) OpenClocksOfLead(ctx context.Context, leadID int64) ([]SLAClock, error) {
	rows, err := tx.QueryContext(ctx, tx.db.q.get("ClocksOpenOfLead"), leadID)
	return scanClocks(rows, err, "open clocks of lead")
}

// StopClock records that a clock reached its target as of the transaction
// time: a running clock becomes met, or breached (at its deadline) when the
// target came after it; a breached clock only gets its stop time. It
// reports whether the clock was open.
func (tx *Tx) StopClock(ctx context.Context, id int64, by string) (bool, error) {
	now := us(tx.Now)
	res, err := tx.exec(ctx, "ClockStop", now, now, now, by, id)
	return affected(res, err)
}

// CloseClocks closes the open clocks of a lead in every stage but keep
// (the lead left them): running clocks are canceled, or breached when
// already past due; breached clocks get their stop time. It returns how
// many clocks it closed.
func (tx *Tx) CloseClocks(ctx context.Context, leadID int64, keep leadflow.Stage, by string) (int64, error) {
	now := us(tx.Now)
	res, err := tx.exec(ctx, "ClocksClose", now, now, now, by, leadID, string(keep))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return n, wrapDB(err, "close clocks")
}

// MarkClockWarned records the warning of a running clock as of the
// transaction time. It succeeds once: false when the clock was already
// warned, stopped, breached or is past due (a late warning is pointless),
// so a timer that runs twice does not warn twice.
func (tx *Tx) MarkClockWarned(ctx context.Context, id int64) (bool, error) {
	res, err := tx.exec(ctx, "ClockMarkWarned", us(tx.Now), id, us(tx.Now))
	return affected(res, err)
}

// MarkClockBreached records the breach of a running clock as of the
// transaction time. It succeeds once: false when the clock is no longer
// running, so a timer that runs twice does not escalate twice.
func (tx *Tx) MarkClockBreached(ctx context.Context, id int64) (bool, error) {
	res, err := tx.exec(ctx, "ClockMarkBreached", us(tx.Now), id)
	return affected(res, err)
}

// ReownClocks gives the running clocks of a lead to its new owner, so that
// compliance is counted against whoever must act now.
func (tx *Tx) ReownClocks(ctx context.Context, leadID int64, owner string) error {
	_, err := tx.exec(ctx, "ClocksReown", owner, leadID)
	return err
}

func affected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, wrapDB(err, "rows affected")
}

// ClockFilter selects clocks for a queue. Zero values select everything.
type ClockFilter struct {
	Status []string
	Owner  string
	Policy string
	Stage  leadflow.Stage
	// DueBefore selects clocks due before it (the at-risk queue).
	DueBefore time.Time
	// Limit defaults to 100, at most 1000.
	Limit int
}

// FindClocks lists clocks ordered by deadline, soonest first.
func (db *DB) FindClocks(ctx context.Context, f ClockFilter) ([]SLAClock, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > 1000 {
		return nil, leadflow.Invalidf("limit", "limit %d is over the maximum of 1000", limit)
	}
	var where []string
	var args []any
	if len(f.Status) > 0 {
		ph := make([]string, len(f.Status))
		for i, s := range f.Status {
			switch s {
			case ClockRunning, ClockMet, ClockBreached, ClockCanceled:
			default:
				return nil, leadflow.Invalidf("status", "unknown SLA status %q: use running, met, breached or canceled", s)
			}
			ph[i] = "?"
			args = append(args, s)
		}
		where = append(where, "status IN ("+strings.Join(ph, ",")+")")
	}
	if f.Owner != "" {
		where, args = append(where, "owner = ?"), append(args, f.Owner)
	}
	if f.Policy != "" {
		where, args = append(where, "policy = ?"), append(args, f.Policy)
	}
	if f.Stage != "" {
		where, args = append(where, "stage = ?"), append(args, string(f.Stage))
	}
	if !f.DueBefore.IsZero() {
		where, args = append(where, "due_at < ?"), append(args, us(f.DueBefore))
	}
	q := "SELECT " + clockColumns + " FROM sla_clocks"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY due_at, id LIMIT %d", limit)
	rows, err := db.Read.QueryContext(ctx, db.Dialect.Rebind(q), args...)
	return scanClocks(rows, err, "find clocks")
}

// ComplianceRow counts the clocks of one policy and owner started in a
// period, by outcome.
type ComplianceRow struct {
	Policy string `json:"policy"`
	Owner  string `json:"owner"`
	// Met counts clocks whose target came on time.
	Met int64 `json:"met"`
	// Breached counts clocks past their deadline, answered late or not.
	Breached int64 `json:"breached"`
	// Running counts clocks still waiting, not yet due.
	Running int64 `json:"running"`
	// Canceled counts clocks stopped because the lead left the stage in
	// time; they count neither for nor against compliance.
	Canceled int64 `json:"canceled"`
	// Warned counts clocks (any outcome) that sent a warning.
	Warned int64 `json:"warned"`
}

// Compliance is the share of decided clocks that were met, nil when none
// is decided yet.
func (r ComplianceRow) Compliance() *float64 {
	decided := r.Met + r.Breached
	if decided == 0 {
		return nil
	}
	v := float64(r.Met) / float64(decided)
	return &v
}

// SLACompliance counts clocks started in [from, to) by policy and owner.
func (db *DB) SLACompliance(ctx context.Context, from, to time.Time) ([]ComplianceRow, error) {
	if !to.After(from) {
		return nil, leadflow.Invalidf("to", "the period must end after it starts")
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("ClockCompliance"), us(from), us(to))
	if err != nil {
		return nil, wrapDB(err, "SLA compliance")
	}
	defer rows.Close()
	var out []ComplianceRow
	for rows.Next() {
		var policy, owner, status string
		var n, warned int64
		if err := rows.Scan(&policy, &owner, &status, &n, &warned); err != nil {
			return nil, wrapDB(err, "SLA compliance")
		}
		if len(out) == 0 || out[len(out)-1].Policy != policy || out[len(out)-1].Owner != owner {
			out = append(out, ComplianceRow{Policy: policy, Owner: owner})
		}
		r := &out[len(out)-1]
		switch status {
		case ClockMet:
			r.Met += n
		case ClockBreached:
			r.Breached += n
		case ClockRunning:
			r.Running += n
		case ClockCanceled:
			r.Canceled += n
		}
		r.Warned += warned
	}
	return out, wrapDB(rows.Err(), "SLA compliance")
}

// SLAManager returns the manager of a team, "" when the team has none or
// does not exist.
func (tx *Tx) SLAManager(ctx context.Context, team string) (string, error) {
	if team == "" {
		return "", nil
	}
	var m string
	err := wrapDB(tx.queryRow(ctx, "SLATeamManager", team).Scan(&m), "team manager")
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return "", nil
	}
	return m, err
}

// SLAUserTeam returns the team of a user, "" when the user has none or does
// not exist.
func (tx *Tx) SLAUserTeam(ctx context.Context, user string) (string, error) {
	if user == "" {
		return "", nil
	}
	var team string
	err := wrapDB(tx.queryRow(ctx, "SLAUserTeam", user).Scan(&team), "user team")
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return "", nil
	}
	return team, err
}

// SLANextMember picks whom a breached lead goes to: the next active member
// of the team by name after current, wrapping around, among those who have
// not yet held a clock of the policy for this lead since since (the stage
// entry). "" when everyone had a turn, which bounds the escalation.
func (tx *Tx) SLANextMember(ctx context.Context, team string, leadID int64, policy string, since time.Time, current string) (string, error) {
	rows, err := tx.QueryContext(ctx, tx.db.q.get("SLAReassignCandidates"), team, leadID, policy, us(since))
	if err != nil {
		return "", wrapDB(err, "reassign candidates")
	}
	defer rows.Close()
	var first, next string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", wrapDB(err, "reassign candidates")
		}
		if name == current {
			continue
		}
		if first == "" {
			first = name
		}
		if next == "" && name > current {
			next = name
		}
	}
	if err := rows.Err(); err != nil {
		return "", wrapDB(err, "reassign candidates")
	}
	if next == "" {
		next = first
	}
	return next, nil
}

// SLAReassign gives a lead from one owner to another and records the
// assignment (rule "sla:<policy>"). It reports false, changing nothing,
// when the lead is no longer owned by from (someone reassigned it
// meanwhile).
func (tx *Tx) SLAReassign(ctx context.Context, leadID int64, from, to, team, policy, actor string) (bool, error) {
	tx.forgetLead(leadID)
	res, err := tx.exec(ctx, "SLALeadReassign", to, team, us(tx.Now), leadID, from)
	ok, err := affected(res, err)
	if !ok || err != nil {
		return false, err
	}
	if _, err := tx.exec(ctx, "SLAAssignmentInsert", leadID, to, team, "sla:"+policy, from, actor, us(tx.Now)); err != nil {
		return false, err
	}
	return true, tx.Audit(ctx, actor, "lead.reassign", "lead", leadID, "sla:"+policy+" "+from+" → "+to)
}
