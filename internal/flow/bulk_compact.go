package flow

import (
	"context"

	"github.com/leadflow/leadflow"
)

// The compact path of the bulk rescore: when the model reads no event
// field but type, name and properties.path, events are read from the
// compact copy (event_scores: lead, time, id, signature) instead of the
// events table, and each signature's Event is built once.

// scanCompact matches the compact events of chunk c, calling finishTo and
// tracking the current lead like the events path of chunk.
func (w *bulkScorer) scanCompact(ctx context.Context, c bulkChunk, leads []*leadflow.Lead, res *bulkResult,
	finishTo func(int64), i *int, cur *int) error {
	var err error
	if w.compact, err = w.db.ReadCompact(ctx, c.lo, c.hi, w.sigs, w.compact[:0]); err != nil {
		return err
	}
	var ev leadflow.Event
	for k := range w.compact {
		e := &w.compact[k]
		res.events++
		if *cur < 0 || leads[*cur].ID != e.LeadID {
			finishTo(e.LeadID)
			w.hits = w.hits[:0]
			*cur = -1
			if *i < len(leads) && leads[*i].ID == e.LeadID {
				*cur = *i
			}
		}
		if *cur < 0 {
			continue // an event of an erased lead
		}
		t, _ := w.sigs.Event(e.Sig) // ReadCompact loaded every signature
		ev = *t
		ev.ID, ev.LeadID, ev.Timestamp = e.ID, e.LeadID, e.Time()
		w.hits = w.mt.Match(leads[*cur], &ev, w.hits)
	}
	if cap(w.compact) > 1<<20 {
		w.compact = nil // do not keep a huge chunk's buffer
	}
	return nil
}
