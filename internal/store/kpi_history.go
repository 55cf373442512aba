package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/leadflow/leadflow"
)

// HistoryWriter writes the stage changes and CRM deals of leads loaded
// with a Loader (a generated history): multi-row INSERTs on SQLite, COPY on
// PostgreSQL, one transaction per Flush. It records, and checks, nothing
// else: the lead's stage must already be its last transition's, and the
// leads must be written (Loader.Flush) before the Flush that writes their
// history.
type HistoryWriter struct {
	db          *DB
	transitions [][]any
	deals       [][]any
	// Transitions and Deals count what was written so far.
	Transitions, Deals int64
}

// NewHistoryWriter starts writing histories.
func (db *DB) NewHistoryWriter() *HistoryWriter { return &HistoryWriter{db: db} }

// AddTransition buffers one stage change (its ID, Score and Explanation
// are not stored).
func (w *HistoryWriter) AddTransition(t *leadflow.Transition) {
	w.transitions = append(w.transitions, []any{t.LeadID, string(t.From), string(t.To), us(t.At), t.Cause, t.Reason})
}

// AddDeal buffers one deal; Currency is JPY.
func (w *HistoryWriter) AddDeal(d *Deal) {
	w.deals = append(w.deals, []any{d.LeadID, d.ExternalID, d.Name, d.Status, d.Amount, d.Reason, us(d.At), us(d.At)})
}

// Flush writes what is buffered in one transaction.
func (w *HistoryWriter) Flush(ctx context.Context) error {
	if len(w.transitions)+len(w.deals) == 0 {
		return nil
	}
	var err error
	if w.db.Dialect == Postgres {
		err = w.flushPG(ctx)
	} else {
		err = w.db.InTx(ctx, func(tx *Tx) error {
			if err := insertRows(ctx, tx, "HistoryTransitionInsert", w.transitions); err != nil {
				return err
			}
			return insertRows(ctx, tx, "HistoryDealInsert", w.deals)
		})
	}
	if err != nil {
		return err
	}
	w.Transitions += int64(len(w.transitions))
	w.Deals += int64(len(w.deals))
	w.transitions, w.deals = w.transitions[:0], w.deals[:0]
	return nil
}

// flushPG copies the buffer in one transaction (the multi-row INSERTs of
// SQLite number their parameters once per statement, PostgreSQL's COPY is
// faster anyway).
func (w *HistoryWriter) flushPG(ctx context.Context) error {
	conn, err := w.db.Write.Conn(ctx)
	if err != nil {
		return wrapDB(err, "history")
	}
	defer conn.Close()
	tr := make([][]any, len(w.transitions))
	for i, r := range w.transitions {
		tr[i] = append(r[:6:6], 0.0, "{}")
	}
	dl := make([][]any, len(w.deals))
	for i, r := range w.deals {
		dl[i] = []any{r[0], r[1], r[2], r[3], r[4], "JPY", r[5], r[6], r[7]}
	}
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return wrapDB(err, "history: begin")
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"transitions"},
			[]string{"lead_id", "from_stage", "to_stage", "at", "cause", "reason", "score", "explanation"}, pgx.CopyFromRows(tr)); err != nil {
			return wrapDB(err, "copy transitions")
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"deals"},
			[]string{"lead_id", "external_id", "name", "status", "amount", "currency", "reason", "at", "updated_at"}, pgx.CopyFromRows(dl)); err != nil {
			return wrapDB(err, "copy deals")
		}
		return wrapDB(tx.Commit(ctx), "history: commit")
	})
}
