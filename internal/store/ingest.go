package store

import (
	"context"
	"encoding/json"

	"github.com/leadflow/leadflow"
)

// LeadIDsByIdentities returns the lead of each of values that is a known
// identity of the kind, with one statement (values absent from the map are
// unknown). Ingestion uses it to resolve a whole batch at once.
func (tx *Tx) LeadIDsByIdentities(ctx context.Context, kind string, values []string) (map[string]int64, error) {
	out := make(map[string]int64, len(values))
	if len(values) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(values)
	if err != nil {
		return nil, leadflow.Internal(err, "identities")
	}
	rows, err := tx.query(ctx, "LeadIDsByIdentities", kind, string(arg))
	if err != nil {
		return nil, wrapDB(err, "identities")
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var id int64
		if err := rows.Scan(&v, &id); err != nil {
			return nil, wrapDB(err, "identities")
		}
		out[v] = id
	}
	return out, wrapDB(rows.Err(), "identities")
}

// LeadsByIDs reads the leads with one statement; an unknown or erased id
// is left out.
func (tx *Tx) LeadsByIDs(ctx context.Context, ids []int64) ([]*leadflow.Lead, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, leadflow.Internal(err, "leads")
	}
	rows, err := tx.query(ctx, "LeadsByIDs", string(arg))
	if err != nil {
		return nil, wrapDB(err, "leads")
	}
	defer rows.Close()
	var out []*leadflow.Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, wrapDB(rows.Err(), "leads")
}

// HitsOfLeads reads the stored hits of the leads with one statement.
func (tx *Tx) HitsOfLeads(ctx context.Context, ids []int64) (map[int64][]Hit, error) {
	out := make(map[int64][]Hit, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, leadflow.Internal(err, "hits")
	}
	rows, err := tx.query(ctx, "HitsOfLeads", string(arg))
	if err != nil {
		return nil, wrapDB(err, "hits")
	}
	defer rows.Close()
	for rows.Next() {
		var h Hit
		var lead, at int64
		if err := rows.Scan(&lead, &h.EventID, &h.Rule, &at, &h.Points, &h.Label); err != nil {
			return nil, wrapDB(err, "scan hit")
		}
		h.At = fromUS(at)
		out[lead] = append(out[lead], h)
	}
	return out, wrapDB(rows.Err(), "hits")
}
