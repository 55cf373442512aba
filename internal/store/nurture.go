package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/leadflow/leadflow"
)

// Enrolment statuses.
const (
	EnrolmentActive    = "active"
	EnrolmentPaused    = "paused"
	EnrolmentExited    = "exited"
	EnrolmentCompleted = "completed"
)

// Send statuses: a send is claimed (pending) before the message goes out
// and marked sent after the SMTP server accepted it.
const (
	SendPending = "pending"
	SendSent    = "sent"
	SendSkipped = "skipped"
)

// Task statuses.
const (
	TaskOpen = "open"
	TaskDone = "done"
)

// SettingNurture is the settings document of nurture (rate limits).
const SettingNurture = "nurture"

// Sequence is a stored nurture sequence: its YAML source, validated by the
// nurture package before it is stored.
type Sequence struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Enrolment is a lead's place in a sequence.
type Enrolment struct {
	ID         int64     `json:"id"`
	SequenceID int64     `json:"sequence_id"`
	LeadID     int64     `json:"lead_id"`
	Step       int       `json:"step"`
	Status     string    `json:"status" enum:"active,paused,exited,completed"`
	ExitReason string    `json:"exit_reason,omitempty"`
	Cause      string    `json:"cause,omitempty"`
	EnrolledAt time.Time `json:"enrolled_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	NextRunAt  time.Time `json:"next_run_at,omitzero"`
	// PausedAt is when a paused enrolment was paused (zero otherwise); a
	// resume continues a wait with the time it had left then.
	PausedAt time.Time `json:"paused_at,omitzero"`
}

// Send is one email step of one enrolment; (enrolment, step) is unique, so
// a lead is never sent the same step twice.
type Send struct {
	ID             int64      `json:"id"`
	EnrolmentID    int64      `json:"enrolment_id"`
	Step           int        `json:"step"`
	SequenceID     int64      `json:"sequence_id"`
	LeadID         int64      `json:"lead_id"`
	Email          string     `json:"email"`
	Status         string     `json:"status"`
	MessageID      string     `json:"message_id,omitempty"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	SentAt         *time.Time `json:"sent_at,omitempty"`
	OpenedAt       *time.Time `json:"opened_at,omitempty"`
	ClickedAt      *time.Time `json:"clicked_at,omitempty"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at,omitempty"`
	// Bounce is "hard" or "soft" once a bounce of this email was
	// reported; BouncedAt is when the first one was.
	Bounce    string     `json:"bounce,omitempty" enum:"hard,soft"`
	BouncedAt *time.Time `json:"bounced_at,omitempty"`
}

// Task is a call or follow-up a sequence asks inside sales to make.
type Task struct {
	ID          int64      `json:"id"`
	EnrolmentID int64      `json:"enrolment_id"`
	Step        int        `json:"step"`
	SequenceID  int64      `json:"sequence_id"`
	LeadID      int64      `json:"lead_id"`
	Kind        string     `json:"kind" enum:"call,email,meeting,other"`
	Title       string     `json:"title"`
	Owner       string     `json:"owner,omitempty"`
	DueAt       time.Time  `json:"due_at"`
	Status      string     `json:"status" enum:"open,done"`
	Outcome     string     `json:"outcome,omitempty"`
	TouchID     *int64     `json:"touch_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
	DoneBy      string     `json:"done_by,omitempty"`
}

func scanSequence(r rowScanner) (*Sequence, error) {
	var s Sequence
	var active int
	var created, updated int64
	if err := r.Scan(&s.ID, &s.Name, &s.Source, &active, &created, &updated, &s.UpdatedBy); err != nil {
		return nil, wrapDB(err, "scan sequence")
	}
	s.Active, s.CreatedAt, s.UpdatedAt = active != 0, fromUS(created), fromUS(updated)
	return &s, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SaveSequence creates or replaces the sequence of that name.
func (tx *Tx) SaveSequence(ctx context.Context, s *Sequence) error {
	s.UpdatedAt = tx.Now
	prev, err := scanSequence(tx.queryRow(ctx, "NurtureSequenceByName", s.Name))
	switch {
	case err == nil:
		s.ID, s.CreatedAt = prev.ID, prev.CreatedAt
		_, err = tx.exec(ctx, "NurtureSequenceUpdate", s.Source, boolInt(s.Active), us(s.UpdatedAt), s.UpdatedBy, s.ID)
	case leadflow.ErrorCode(err) == leadflow.ENOTFOUND:
		s.CreatedAt = tx.Now
		err = wrapDB(tx.queryRow(ctx, "NurtureSequenceInsert", s.Name, s.Source, boolInt(s.Active), us(s.CreatedAt),
			us(s.UpdatedAt), s.UpdatedBy).Scan(&s.ID), "insert sequence")
	}
	if err != nil {
		return err
	}
	return tx.Audit(ctx, s.UpdatedBy, "nurture.sequence.save", "sequence:"+s.Name, s.ID, "")
}

// SetSequenceActive turns a sequence on or off.
func (tx *Tx) SetSequenceActive(ctx context.Context, id int64, active bool, by string) (*Sequence, error) {
	s, err := tx.Sequence(ctx, id)
	if err != nil {
		return nil, err
	}
	s.Active, s.UpdatedBy, s.UpdatedAt = active, by, tx.Now
	if _, err := tx.exec(ctx, "NurtureSequenceUpdate", s.Source, boolInt(active), us(tx.Now), by, id); err != nil {
		return nil, err
	}
	return s, nil
}

// Sequence reads one sequence.
func (tx *Tx) Sequence(ctx context.Context, id int64) (*Sequence, error) {
	s, err := scanSequence(tx.queryRow(ctx, "NurtureSequenceByID", id))
	return s, notFound(err, "sequence %d not found", id)
}

// Sequence reads one sequence.
func (db *DB) Sequence(ctx context.Context, id int64) (*Sequence, error) {
	s, err := scanSequence(db.queryRow(ctx, "NurtureSequenceByID", id))
	return s, notFound(err, "sequence %d not found", id)
}

// Sequences lists every sequence.
func (db *DB) Sequences(ctx context.Context) ([]Sequence, error) {
	return sequences(ctx, db.Read, db.q)
}

// Sequences lists every sequence inside a transaction.
func (tx *Tx) Sequences(ctx context.Context) ([]Sequence, error) {
	return sequences(ctx, tx.Tx, tx.db.q)
}

func sequences(ctx context.Context, db querier, q queries) ([]Sequence, error) {
	rows, err := db.QueryContext(ctx, q.get("NurtureSequences"))
	if err != nil {
		return nil, wrapDB(err, "sequences")
	}
	defer rows.Close()
	out := []Sequence{}
	for rows.Next() {
		s, err := scanSequence(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, wrapDB(rows.Err(), "sequences")
}

// SequencesStamp changes whenever a sequence is saved: callers cache the
// compiled sequences by it.
func (tx *Tx) SequencesStamp(ctx context.Context) (string, error) {
	var n, max, sum int64
	err := tx.queryRow(ctx, "NurtureSequencesStamp").Scan(&n, &max, &sum)
	return fmt.Sprintf("%d/%d/%d", n, max, sum), wrapDB(err, "sequences stamp")
}

func scanEnrolment(r rowScanner) (*Enrolment, error) {
	var e Enrolment
	var enrolled, updated, next, paused int64
	if err := r.Scan(&e.ID, &e.SequenceID, &e.LeadID, &e.Step, &e.Status, &e.ExitReason, &e.Cause,
		&enrolled, &updated, &next, &paused); err != nil {
		return nil, wrapDB(err, "scan enrolment")
	}
	e.EnrolledAt, e.UpdatedAt, e.NextRunAt, e.PausedAt = fromUS(enrolled), fromUS(updated), fromUS(next), fromUS(paused)
	return &e, nil
}

func scanEnrolments(rows *sql.Rows, err error) ([]Enrolment, error) {
	if err != nil {
		return nil, wrapDB(err, "enrolments")
	}
	defer rows.Close()
	out := []Enrolment{}
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, wrapDB(rows.Err(), "enrolments")
}

// Enrol puts the lead at step 0 of the sequence. It reports false when the
// lead is already active or paused in it.
func (tx *Tx) Enrol(ctx context.Context, e *Enrolment) (bool, error) {
	e.Step, e.Status, e.EnrolledAt, e.UpdatedAt = 0, EnrolmentActive, tx.Now, tx.Now
	err := tx.queryRow(ctx, "NurtureEnrolmentInsert", e.SequenceID, e.LeadID, e.Cause, us(tx.Now), us(tx.Now),
		us(e.NextRunAt)).Scan(&e.ID)
	if leadflow.ErrorCode(wrapDB(err, "")) == leadflow.ENOTFOUND {
		return false, nil
	}
	return err == nil, wrapDB(err, "enrol")
}

// Enrolment reads one enrolment.
func (tx *Tx) Enrolment(ctx context.Context, id int64) (*Enrolment, error) {
	e, err := scanEnrolment(tx.queryRow(ctx, "NurtureEnrolmentByID", id))
	return e, notFound(err, "enrolment %d not found", id)
}

// Enrolment reads one enrolment.
func (db *DB) Enrolment(ctx context.Context, id int64) (*Enrolment, error) {
	e, err := scanEnrolment(db.queryRow(ctx, "NurtureEnrolmentByID", id))
	return e, notFound(err, "enrolment %d not found", id)
}

// EnrolmentsOfLead lists every enrolment of a lead.
func (db *DB) EnrolmentsOfLead(ctx context.Context, leadID int64) ([]Enrolment, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("NurtureEnrolmentsOfLead"), leadID)
	return scanEnrolments(rows, err)
}

// LiveEnrolmentsOfLead lists the lead's active and paused enrolments.
func (tx *Tx) LiveEnrolmentsOfLead(ctx context.Context, leadID int64) ([]Enrolment, error) {
	rows, err := tx.QueryContext(ctx, tx.db.q.get("NurtureEnrolmentsLiveOfLead"), leadID)
	return scanEnrolments(rows, err)
}

// EnrolmentsOfSequence pages through a sequence's enrolments by id.
func (db *DB) EnrolmentsOfSequence(ctx context.Context, seqID, after int64, limit int) ([]Enrolment, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("NurtureEnrolmentsOfSequence"), seqID, after, limit)
	return scanEnrolments(rows, err)
}

// MoveEnrolment changes step, status, exit reason and next run time of e,
// provided nobody moved it since it was read (step and status unchanged).
// It reports whether it moved.
func (tx *Tx) MoveEnrolment(ctx context.Context, e *Enrolment, step int, status, reason string, next time.Time) (bool, error) {
	res, err := tx.exec(ctx, "NurtureEnrolmentMove", step, status, reason, us(tx.Now), us(next), e.ID, e.Step, e.Status)
	ok, err := affected(res, err)
	if ok {
		e.Step, e.Status, e.ExitReason, e.UpdatedAt, e.NextRunAt, e.PausedAt = step, status, reason, tx.Now, next, time.Time{}
	}
	return ok, err
}

// PauseEnrolment pauses an active enrolment where it is, keeping its next
// run time and recording when it was paused, provided nobody moved it
// since it was read. It reports whether it paused.
func (tx *Tx) PauseEnrolment(ctx context.Context, e *Enrolment) (bool, error) {
	ok, err := affected(tx.exec(ctx, "NurtureEnrolmentPause", us(tx.Now), us(tx.Now), e.ID, e.Step))
	if ok {
		e.Status, e.PausedAt, e.UpdatedAt = EnrolmentPaused, tx.Now, tx.Now
	}
	return ok, err
}

func scanSend(r rowScanner) (*Send, error) {
	var s Send
	var created int64
	var sent, opened, clicked, unsub, bounced sql.NullInt64
	if err := r.Scan(&s.ID, &s.EnrolmentID, &s.Step, &s.SequenceID, &s.LeadID, &s.Email, &s.Status, &s.MessageID,
		&s.Attempts, &s.LastError, &created, &sent, &opened, &clicked, &unsub, &s.Bounce, &bounced); err != nil {
		return nil, wrapDB(err, "scan send")
	}
	s.CreatedAt = fromUS(created)
	s.SentAt, s.OpenedAt, s.ClickedAt, s.UnsubscribedAt = optUS(sent), optUS(opened), optUS(clicked), optUS(unsub)
	s.BouncedAt = optUS(bounced)
	return &s, nil
}

// ClaimSend returns the send of (enrolment, step), creating it as pending
// the first time; a send that is already sent stays sent.
func (tx *Tx) ClaimSend(ctx context.Context, s *Send) (*Send, error) {
	if _, err := tx.exec(ctx, "NurtureSendClaim", s.EnrolmentID, s.Step, s.SequenceID, s.LeadID, s.Email, us(tx.Now)); err != nil {
		return nil, err
	}
	return scanSend(tx.queryRow(ctx, "NurtureSendOf", s.EnrolmentID, s.Step))
}

// Send reads one send.
func (tx *Tx) Send(ctx context.Context, id int64) (*Send, error) {
	s, err := scanSend(tx.queryRow(ctx, "NurtureSendByID", id))
	return s, notFound(err, "send %d not found", id)
}

// Send reads one send.
func (db *DB) Send(ctx context.Context, id int64) (*Send, error) {
	s, err := scanSend(db.queryRow(ctx, "NurtureSendByID", id))
	return s, notFound(err, "send %d not found", id)
}

// SendOf reads the send of one step of an enrolment.
func (db *DB) SendOf(ctx context.Context, enrolmentID int64, step int) (*Send, error) {
	s, err := scanSend(db.queryRow(ctx, "NurtureSendOf", enrolmentID, step))
	return s, notFound(err, "no send for enrolment %d step %d", enrolmentID, step)
}

// LastSend is the enrolment's latest sent email (ENOTFOUND: none yet).
func (tx *Tx) LastSend(ctx context.Context, enrolmentID int64) (*Send, error) {
	s, err := scanSend(tx.queryRow(ctx, "NurtureSendLast", enrolmentID))
	return s, notFound(err, "no email sent yet")
}

// SendAttempt records a failed attempt (the send stays pending).
func (db *DB) SendAttempt(ctx context.Context, id int64, messageID, lastError string) error {
	_, err := db.Write.ExecContext(ctx, db.q.get("NurtureSendAttempt"), lastError, messageID, id)
	return wrapDB(err, "send attempt")
}

// FinishSend marks a pending send sent (or skipped); false when it was not
// pending any more.
func (tx *Tx) FinishSend(ctx context.Context, id int64, status, messageID string) (bool, error) {
	var at any
	if status == SendSent {
		at = us(tx.Now)
	}
	return affected(tx.exec(ctx, "NurtureSendDone", status, at, messageID, id))
}

// MarkSend records an open, a click or an unsubscribe of a send (the
// first time of each counts).
func (tx *Tx) MarkSend(ctx context.Context, id int64, what string) error {
	var err error
	switch what {
	case "opened":
		_, err = tx.exec(ctx, "NurtureSendOpened", us(tx.Now), id)
	case "clicked":
		_, err = tx.exec(ctx, "NurtureSendClicked", us(tx.Now), us(tx.Now), id)
	case "unsubscribed":
		_, err = tx.exec(ctx, "NurtureSendUnsubscribed", us(tx.Now), id)
	default:
		return leadflow.Errorf(leadflow.EINTERNAL, "unknown send mark %q", what)
	}
	return err
}

func scanTask(r rowScanner) (*Task, error) {
	var t Task
	var due, created int64
	var touch, done sql.NullInt64
	if err := r.Scan(&t.ID, &t.EnrolmentID, &t.Step, &t.SequenceID, &t.LeadID, &t.Kind, &t.Title, &t.Owner, &due,
		&t.Status, &t.Outcome, &touch, &created, &done, &t.DoneBy); err != nil {
		return nil, wrapDB(err, "scan task")
	}
	t.DueAt, t.CreatedAt, t.DoneAt = fromUS(due), fromUS(created), optUS(done)
	if touch.Valid {
		t.TouchID = &touch.Int64
	}
	return &t, nil
}

// CreateTask inserts the task of (enrolment, step) unless it exists.
func (tx *Tx) CreateTask(ctx context.Context, t *Task) error {
	_, err := tx.exec(ctx, "NurtureTaskInsert", t.EnrolmentID, t.Step, t.SequenceID, t.LeadID, t.Kind, t.Title, t.Owner,
		us(t.DueAt), us(tx.Now))
	return err
}

// Task reads one task.
func (tx *Tx) Task(ctx context.Context, id int64) (*Task, error) {
	t, err := scanTask(tx.queryRow(ctx, "NurtureTaskByID", id))
	return t, notFound(err, "task %d not found", id)
}

// Task reads one task.
func (db *DB) Task(ctx context.Context, id int64) (*Task, error) {
	t, err := scanTask(db.queryRow(ctx, "NurtureTaskByID", id))
	return t, notFound(err, "task %d not found", id)
}

// OpenTasks lists open tasks by due time, of one owner or all ("").
func (db *DB) OpenTasks(ctx context.Context, owner string, limit int) ([]Task, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("NurtureTasksOpen"), owner, owner, limit)
	if err != nil {
		return nil, wrapDB(err, "tasks")
	}
	defer rows.Close()
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, wrapDB(rows.Err(), "tasks")
}

// CompleteTask closes an open task with its outcome and the touch logged
// for it; ECONFLICT when it was done already.
func (tx *Tx) CompleteTask(ctx context.Context, id int64, outcome string, touchID int64, by string) error {
	ok, err := affected(tx.exec(ctx, "NurtureTaskComplete", outcome, touchID, us(tx.Now), by, id))
	if err == nil && !ok {
		return leadflow.Errorf(leadflow.ECONFLICT, "task %d is done already", id)
	}
	return err
}

// Suppress records that an address must not be mailed again.
func (tx *Tx) Suppress(ctx context.Context, email, reason string, leadID int64) error {
	var lead any
	if leadID != 0 {
		lead = leadID
	}
	_, err := tx.exec(ctx, "NurtureSuppress", NormalizeEmail(email), reason, lead, us(tx.Now))
	return err
}

// Suppression returns why an address is suppressed ("" when it is not).
func (tx *Tx) Suppression(ctx context.Context, email string) (string, error) {
	var reason string
	err := tx.queryRow(ctx, "NurtureSuppression", NormalizeEmail(email)).Scan(&reason)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return reason, wrapDB(err, "suppression")
}

// NurtureKey returns the secret that signs tracking links, creating it
// with newSecret the first time.
func (db *DB) NurtureKey(ctx context.Context, newSecret func() string) (string, error) {
	var s string
	err := db.queryRow(ctx, "NurtureKey").Scan(&s)
	if err == nil {
		return s, nil
	}
	if err != sql.ErrNoRows {
		return "", wrapDB(err, "nurture key")
	}
	if err := db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, "NurtureKeyInsert", newSecret())
		return err
	}); err != nil {
		return "", err
	}
	err = db.Write.QueryRowContext(ctx, db.q.get("NurtureKey")).Scan(&s)
	return s, wrapDB(err, "nurture key")
}

// StepCounts are the report figures of one step of a sequence.
type StepCounts struct {
	Step         int `json:"step"`
	Reached      int `json:"reached"`
	Sent         int `json:"sent"`
	Opened       int `json:"opened"`
	Clicked      int `json:"clicked"`
	Unsubscribed int `json:"unsubscribed"`
	// Bounced counts the step's emails reported bounced (hard or soft),
	// HardBounced those of them that bounced hard.
	Bounced     int `json:"bounced"`
	HardBounced int `json:"hard_bounced"`
	Tasks       int `json:"tasks"`
	TasksDone   int `json:"tasks_done"`
	// Exited counts the enrolments that left the sequence at this step;
	// Converted those of them that left because they reached SQL.
	Exited    int `json:"exited"`
	Converted int `json:"converted"`
	Active    int `json:"active"`
	Completed int `json:"completed"`
}

// ExitConverted is the exit reason of a lead that reached SQL (or beyond).
const ExitConverted = "converted"

// SequenceCounts returns per-step figures of a sequence (index = step),
// for steps 0..steps-1; enrolments past the last step count on the last.
func (db *DB) SequenceCounts(ctx context.Context, seqID int64, steps int) ([]StepCounts, error) {
	if steps < 1 {
		steps = 1
	}
	out := make([]StepCounts, steps)
	for i := range out {
		out[i].Step = i
	}
	at := func(step int) *StepCounts {
		if step < 0 {
			step = 0
		}
		if step >= steps {
			step = steps - 1
		}
		return &out[step]
	}
	rows, err := db.Read.QueryContext(ctx, db.q.get("NurtureReportEnrolments"), seqID)
	if err != nil {
		return nil, wrapDB(err, "report")
	}
	defer rows.Close()
	for rows.Next() {
		var step, n int
		var status, reason string
		if err := rows.Scan(&step, &status, &reason, &n); err != nil {
			return nil, wrapDB(err, "report")
		}
		c := at(step)
		switch status {
		case EnrolmentExited:
			c.Exited += n
			if reason == ExitConverted {
				c.Converted += n
			}
		case EnrolmentCompleted:
			c.Completed += n
		default:
			c.Active += n
		}
		// Every enrolment at step s has reached steps 0..s.
		for i := 0; i <= step && i < steps; i++ {
			out[i].Reached += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrapDB(err, "report")
	}
	rows.Close()
	rows, err = db.Read.QueryContext(ctx, db.q.get("NurtureReportSends"), seqID)
	if err != nil {
		return nil, wrapDB(err, "report")
	}
	for rows.Next() {
		var step, sent, opened, clicked, unsub int
		if err := rows.Scan(&step, &sent, &opened, &clicked, &unsub); err != nil {
			rows.Close()
			return nil, wrapDB(err, "report")
		}
		c := at(step)
		c.Sent, c.Opened, c.Clicked, c.Unsubscribed = c.Sent+sent, c.Opened+opened, c.Clicked+clicked, c.Unsubscribed+unsub
	}
	rows.Close()
	if err := db.reportBounces(ctx, seqID, at); err != nil {
		return nil, err
	}
	rows, err = db.Read.QueryContext(ctx, db.q.get("NurtureReportTasks"), seqID)
	if err != nil {
		return nil, wrapDB(err, "report")
	}
	defer rows.Close()
	for rows.Next() {
		var step, n, done int
		if err := rows.Scan(&step, &n, &done); err != nil {
			return nil, wrapDB(err, "report")
		}
		c := at(step)
		c.Tasks, c.TasksDone = c.Tasks+n, c.TasksDone+done
	}
	return out, wrapDB(rows.Err(), "report")
}
