package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/leadflow/leadflow"
)

// leadKeys are the values of a lead's indexed columns but updated_at (and
// of the columns its text search indexes). SQLite rewrites the entries of
// every index whose columns an UPDATE assigns, even to the same value, so
// a lead whose keys did not change since the transaction read it is
// written by a statement that leaves these columns out: on a busy
// ingestion that saves up to ten random index pages per lead per commit.
// Most events change no score (no rule matches them), so the score and
// the next decay time are a group of their own.
type leadKeys struct {
	rare  rareKeys
	score float64
	decay int64 // next_decay_at
}

// rareKeys change on identify, assignment and stage changes only.
type rareKeys struct {
	email, name, company, industry, source, campaign, owner string
	stage                                                   leadflow.Stage
}

func keysOf(l *leadflow.Lead) leadKeys {
	return leadKeys{rareKeys{NormalizeEmail(l.Email), l.Name, l.Company, l.Industry, l.FirstTouch.Source,
		l.FirstTouch.Campaign, l.Owner, l.Stage}, l.Score, us(l.NextDecayAt)}
}

// readLead records the keys of a lead as the transaction read or wrote it.
func (tx *Tx) readLead(l *leadflow.Lead) {
	if tx.keys == nil {
		tx.keys = make(map[int64]leadKeys)
	}
	tx.keys[l.ID] = keysOf(l)
}

// forgetLead drops what the transaction knows of a lead's keys, after a
// statement changed them in the database behind the lead's back.
func (tx *Tx) forgetLead(id int64) { delete(tx.keys, id) }

// UpdateLeads writes every mutable column of the leads, as UpdateLead does
// for one, with one statement per kind of change (in id order, the order
// PostgreSQL locks the rows in): leads whose keys are as the transaction
// read them by one that leaves the key columns alone, those whose score
// keys alone changed by one that leaves the rare keys alone, the others by
// one that writes every column. An email taken by another lead is
// ECONFLICT.
func (tx *Tx) UpdateLeads(ctx context.Context, leads []*leadflow.Lead) error {
	if len(leads) == 0 {
		return nil
	}
	sorted := slices.SortedFunc(slices.Values(leads), func(a, b *leadflow.Lead) int { return cmp.Compare(a.ID, b.ID) })
	var same, scored, changed []byte
	for _, l := range sorted {
		for _, f := range [...]float64{l.Score, l.FitScore, l.BehaviorScore} {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return leadflow.Errorf(leadflow.EINTERNAL, "lead %d has a score of %v", l.ID, f)
			}
		}
		l.Email = NormalizeEmail(l.Email)
		l.UpdatedAt = tx.Now
		k, ok := tx.keys[l.ID]
		now := keysOf(l)
		switch {
		case !ok || k.rare != now.rare:
			changed = appendLeadRow(changed, l)
		case k != now:
			scored = appendLeadRow(scored, l)
		default:
			same = appendLeadRow(same, l)
		}
	}
	for _, w := range [...]struct {
		query string
		rows  []byte
	}{{"LeadsUpdateKept", same}, {"LeadsUpdateScored", scored}, {"LeadsUpdate", changed}} {
		if w.rows == nil {
			continue
		}
		_, err := tx.exec(ctx, w.query, string(append(w.rows, ']')))
		if leadflow.ErrorCode(err) == leadflow.ECONFLICT {
			return &leadflow.Error{Code: leadflow.ECONFLICT, Where: "email", Message: "a lead's email is already another lead's"}
		}
		if err != nil {
			return err
		}
	}
	for _, l := range sorted {
		tx.readLead(l)
	}
	return nil
}

// appendLeadRow appends the LeadsUpdate row of l to the JSON array rows
// (opening it when rows is nil): [id, email, name, company, title,
// industry, employees, country, region, phone, first_touch, last_touch,
// source, campaign, consent, unsubscribed, traits, bant, stage, stage_at,
// score, fit_score, behavior_score, scored_at, next_decay_at,
// model_version, owner, team, updated_at].
func appendLeadRow(rows []byte, l *leadflow.Lead) []byte {
	buf := rows
	if buf == nil {
		buf = append(make([]byte, 0, 4096), '[')
	} else {
		buf = append(buf, ',')
	}
	buf = append(buf, '[')
	buf = strconv.AppendInt(buf, l.ID, 10)
	buf = append(buf, ',')
	if l.Email == "" {
		buf = append(buf, "null"...)
	} else {
		buf = appendJSONString(buf, l.Email)
	}
	for _, s := range [...]string{l.Name, l.Company, l.Title, l.Industry} {
		buf = append(buf, ',')
		buf = appendJSONString(buf, s)
	}
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, int64(l.Employees), 10)
	for _, s := range [...]string{l.Country, l.Region, l.Phone} {
		buf = append(buf, ',')
		buf = appendJSONString(buf, s)
	}
	for _, v := range [...]any{l.FirstTouch, l.LastTouch} {
		buf = append(buf, ',')
		buf = appendJSONString(buf, jsonText(v))
	}
	for _, s := range [...]string{l.FirstTouch.Source, l.FirstTouch.Campaign} {
		buf = append(buf, ',')
		buf = appendJSONString(buf, s)
	}
	buf = append(buf, ',')
	buf = strconv.AppendBool(buf, l.Consent)
	buf = append(buf, ',')
	buf = strconv.AppendBool(buf, l.Unsubscribed)
	buf = append(buf, ',')
	buf = appendJSONString(buf, jsonText(l.Traits))
	buf = append(buf, ',')
	buf = appendJSONString(buf, jsonText(l.BANT))
	buf = append(buf, ',')
	buf = appendJSONString(buf, string(l.Stage))
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, us(l.StageAt), 10)
	for _, f := range [...]float64{l.Score, l.FitScore, l.BehaviorScore} {
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, f, 'g', -1, 64)
	}
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, us(l.ScoredAt), 10)
	buf = append(buf, ',')
	if l.NextDecayAt.IsZero() {
		buf = append(buf, "null"...)
	} else {
		buf = strconv.AppendInt(buf, us(l.NextDecayAt), 10)
	}
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, int64(l.ModelVersion), 10)
	for _, s := range [...]string{l.Owner, l.Team} {
		buf = append(buf, ',')
		buf = appendJSONString(buf, s)
	}
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, us(l.UpdatedAt), 10)
	return append(buf, ']')
}
