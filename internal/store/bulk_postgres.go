package store

import (
	"context"
	"time"

	"github.com/leadflow/leadflow"
)

// PostgreSQL-only statements of the bulk paths. They live here rather than
// in queries/bulk.sql because every named query is prepared on both
// databases at start-up, and SQLite has neither unnest nor arrays.
// (queries/postgres/bulk.sql would be their natural home.)
const pgScoreUpdate = `UPDATE leads AS l
SET score = v.score, fit_score = v.fit, behavior_score = v.beh, scored_at = $7,
    next_decay_at = NULLIF(v.next_decay, 0), updated_at = $7
FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::float8[], $5::bigint[], $6::bigint[])
     AS v(id, score, fit, beh, next_decay, updated_at)
WHERE l.id = v.id AND l.updated_at = v.updated_at`

// updateScoresPG writes all changes in one statement: the values travel as
// six arrays, so the batch costs one round trip.
func (tx *Tx) updateScoresPG(ctx context.Context, changes []ScoreChange) (int64, error) {
	n := len(changes)
	ids, nds, uas := make([]int64, n), make([]int64, n), make([]int64, n)
	scores, fits, behs := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, c := range changes {
		ids[i], nds[i], uas[i] = c.ID, us(c.NextDecayAt), us(c.UpdatedAt)
		scores[i], fits[i], behs[i] = c.Score, c.Fit, c.Behavior
	}
	res, err := tx.ExecContext(ctx, pgScoreUpdate, ids, scores, fits, behs, nds, uas, us(tx.Now))
	if err != nil {
		return 0, wrapDB(err, "score update")
	}
	k, _ := res.RowsAffected()
	return k, nil
}

// pgDefaultModelScore is scoring.DefaultModel's score written as one SQL
// query, the yardstick `leadflow bench rescore` times leadflow against:
// fit as CASE WHENs, each behavior rule summed per lead with the step decay
// (90 days ×0.5, 180 days ×0) as a CASE on the event's age, caps with
// LEAST, grouped by lead. $1 is now in unix microseconds. It returns the
// number of leads, the sum of their scores and how many differ from the
// stored score by more than rounding.
const pgDefaultModelScore = `WITH e AS (
    SELECT lead_id, type, name, properties,
           CASE WHEN $1 - ts > 180 * 86400000000::bigint THEN 0
                WHEN $1 - ts > 90 * 86400000000::bigint THEN 0.5 ELSE 1 END AS f
    FROM events WHERE lead_id IS NOT NULL
), b AS (
    SELECT lead_id,
           sum(CASE WHEN type = 'page' AND (properties::json->>'path') LIKE '/pricing%' THEN 10 * f ELSE 0 END) AS pricing,
           sum(CASE WHEN name = 'Document Downloaded' THEN 15 * f ELSE 0 END) AS whitepaper,
           sum(CASE WHEN name IN ('Webinar Attended', 'Seminar Attended') THEN 20 * f ELSE 0 END) AS seminar,
           sum(CASE WHEN name = 'Email Link Clicked' THEN 3 * f ELSE 0 END) AS email_click,
           sum(CASE WHEN name = 'Unsubscribed' THEN -20 * f ELSE 0 END) AS unsubscribed
    FROM e GROUP BY lead_id
), s AS (
    SELECT l.id, l.score AS stored,
           CASE WHEN l.industry IN ('manufacturing', 'it', 'finance') THEN 10 ELSE 0 END
         + CASE WHEN l.employees >= 100 THEN 15 ELSE 0 END
         + CASE WHEN l.title ~* '(部長|役員|director|vp|chief|manager)' THEN 20 ELSE 0 END
         + CASE WHEN l.email LIKE '%@gmail.com' THEN -10 ELSE 0 END
         + coalesce(least(b.pricing, 30), 0) + coalesce(b.whitepaper, 0) + coalesce(b.seminar, 0)
         + coalesce(least(b.email_click, 15), 0) + coalesce(b.unsubscribed, 0) AS score
    FROM leads l LEFT JOIN b ON b.lead_id = l.id
    WHERE l.erased_at IS NULL
)
SELECT count(*), coalesce(sum(score), 0), count(*) FILTER (WHERE abs(score - stored) > 0.005) FROM s`

// SQLScore is what the SQL yardstick computed.
type SQLScore struct {
	Leads    int64
	Sum      float64
	Mismatch int64 // leads whose stored score differs
}

// ScoreDefaultModelInSQL computes every lead's score under the default
// model in PostgreSQL alone (see pgDefaultModelScore); EINVALID on SQLite.
func (db *DB) ScoreDefaultModelInSQL(ctx context.Context, now time.Time) (SQLScore, error) {
	var r SQLScore
	if db.Dialect != Postgres {
		return r, leadflow.Errorf(leadflow.EINVALID, "the SQL scoring yardstick runs on PostgreSQL only")
	}
	err := db.Read.QueryRowContext(ctx, pgDefaultModelScore, us(now)).Scan(&r.Leads, &r.Sum, &r.Mismatch)
	return r, wrapDB(err, "score in SQL")
}

const (
	pgHitsDelete = `DELETE FROM score_hits WHERE lead_id = ANY($1::bigint[])`
	pgHitsInsert = `INSERT INTO score_hits (lead_id, event_id, rule, at, points, label)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::float8[], $6::text[])`
)

func (tx *Tx) replaceHitsPG(ctx context.Context, leads []LeadHits) error {
	ids := make([]int64, len(leads))
	var lids, eids, ats []int64
	var rules, labels []string
	var points []float64
	for i, l := range leads {
		ids[i] = l.LeadID
		for _, h := range l.Hits {
			lids, eids, ats = append(lids, l.LeadID), append(eids, h.EventID), append(ats, us(h.At))
			rules, labels, points = append(rules, h.Rule), append(labels, h.Label), append(points, h.Points)
		}
	}
	if _, err := tx.ExecContext(ctx, pgHitsDelete, ids); err != nil {
		return wrapDB(err, "delete hits")
	}
	if len(lids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, pgHitsInsert, lids, eids, rules, ats, points, labels)
	return wrapDB(err, "insert hits")
}
