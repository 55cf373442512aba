package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/leadflow/leadflow"
)

// ModelVersion is one stored version of the scoring model.
type ModelVersion struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Active    bool      `json:"active"`
}

func scanModel(r rowScanner) (*ModelVersion, error) {
	var m ModelVersion
	var at int64
	if err := r.Scan(&m.Version, &m.Name, &m.Source, &m.CreatedBy, &at, &m.Active); err != nil {
		return nil, wrapDB(err, "scan model")
	}
	m.CreatedAt = fromUS(at)
	return &m, nil
}

// CreateModelVersion stores a new version (not active yet) and returns it.
func (tx *Tx) CreateModelVersion(ctx context.Context, name, source, by string) (*ModelVersion, error) {
	var max int
	if err := tx.queryRow(ctx, "ModelMaxVersion").Scan(&max); err != nil {
		return nil, wrapDB(err, "model version")
	}
	m := &ModelVersion{Version: max + 1, Name: name, Source: source, CreatedBy: by, CreatedAt: tx.Now}
	if _, err := tx.exec(ctx, "ModelInsert", m.Version, name, source, by, us(tx.Now), false); err != nil {
		return nil, err
	}
	return m, nil
}

// ActivateModel makes version the only active one.
func (tx *Tx) ActivateModel(ctx context.Context, version int) error {
	if _, err := tx.exec(ctx, "ModelDeactivateAll", false, true); err != nil {
		return err
	}
	res, err := tx.exec(ctx, "ModelActivate", true, version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadflow.Errorf(leadflow.ENOTFOUND, "model version %d not found", version)
	}
	return nil
}

// ActiveModel returns the active version; ENOTFOUND on a database that has none yet.
func (tx *Tx) ActiveModel(ctx context.Context) (*ModelVersion, error) {
	m, err := scanModel(tx.queryRow(ctx, "ModelActive", true))
	return m, notFound(err, "no active scoring model")
}

// ActiveModel reads the active version outside a transaction.
func (db *DB) ActiveModel(ctx context.Context) (*ModelVersion, error) {
	m, err := scanModel(db.queryRow(ctx, "ModelActive", true))
	return m, notFound(err, "no active scoring model")
}

// ModelByVersion returns one version.
func (db *DB) ModelByVersion(ctx context.Context, version int) (*ModelVersion, error) {
	m, err := scanModel(db.queryRow(ctx, "ModelByVersion", version))
	return m, notFound(err, "model version %d not found", version)
}

// ModelVersions lists every version, newest first.
func (db *DB) ModelVersions(ctx context.Context) ([]ModelVersion, error) {
	rows, err := db.Read.QueryContext(ctx, db.q.get("ModelList"))
	if err != nil {
		return nil, wrapDB(err, "models")
	}
	defer rows.Close()
	var out []ModelVersion
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, wrapDB(rows.Err(), "models")
}

// RescoreRun tracks a background rescore of every lead after a model change.
type RescoreRun struct {
	ID           int64      `json:"id"`
	ModelVersion int        `json:"model_version"`
	Status       string     `json:"status"` // running, done, failed
	Total        int64      `json:"total"`
	Done         int64      `json:"done"`
	Changed      int64      `json:"changed"`
	LastLeadID   int64      `json:"last_lead_id"`
	StartedAt    time.Time  `json:"started_at"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// Rescore run statuses.
const (
	RescoreRunning = "running"
	RescoreDone    = "done"
	RescoreFailed  = "failed"
)

func scanRescore(r rowScanner) (*RescoreRun, error) {
	var run RescoreRun
	var started int64
	var finished sql.NullInt64
	if err := r.Scan(&run.ID, &run.ModelVersion, &run.Status, &run.Total, &run.Done, &run.Changed,
		&run.LastLeadID, &started, &finished, &run.Error); err != nil {
		return nil, wrapDB(err, "scan rescore run")
	}
	run.StartedAt = fromUS(started)
	if finished.Valid {
		t := fromUS(finished.Int64)
		run.FinishedAt = &t
	}
	return &run, nil
}

// CreateRescoreRun records the start of a rescore.
func (tx *Tx) CreateRescoreRun(ctx context.Context, version int, total int64) (*RescoreRun, error) {
	run := &RescoreRun{ModelVersion: version, Status: RescoreRunning, Total: total, StartedAt: tx.Now}
	err := tx.queryRow(ctx, "RescoreInsert", version, RescoreRunning, total, us(tx.Now)).Scan(&run.ID)
	return run, wrapDB(err, "insert rescore run")
}

// RescoreProgress saves how far a run got, so a crash resumes there.
func (tx *Tx) RescoreProgress(ctx context.Context, run *RescoreRun) error {
	_, err := tx.exec(ctx, "RescoreProgress", run.Done, run.Changed, run.LastLeadID, run.Status, run.ID)
	return err
}

// FinishRescore marks a run done or failed.
func (tx *Tx) FinishRescore(ctx context.Context, id int64, status, errText string) error {
	_, err := tx.exec(ctx, "RescoreFinish", status, us(tx.Now), errText, id)
	return err
}

// RescoreRunByID returns one run.
func (db *DB) RescoreRunByID(ctx context.Context, id int64) (*RescoreRun, error) {
	r, err := scanRescore(db.queryRow(ctx, "RescoreByID", id))
	return r, notFound(err, "rescore run %d not found", id)
}

// LatestRescoreRun returns the newest run.
func (db *DB) LatestRescoreRun(ctx context.Context) (*RescoreRun, error) {
	r, err := scanRescore(db.queryRow(ctx, "RescoreLatest"))
	return r, notFound(err, "no rescore has run")
}
