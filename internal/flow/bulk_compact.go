package flow

import (
	"context"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/scoring"
)

// The compact path of the bulk rescore: when the model reads no event
// field but type, name and properties.path, events are read from the
// compact copy (event_scores: lead, time, id, signature) instead of the
// events table, and each signature's Event is built once. When the
// behavior rules read the event alone (scoring.Model.EventOnly), each
// signature is matched once and its hits reused for every event of it.

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
			w.flushBuckets()
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
		if w.sigHits != nil {
			// The rules read the event alone: its hits are the signature's,
			// matched once, with this event's id and time.
			hs, ok := w.sigHits[e.Sig]
			if !ok {
				t, _ := w.sigs.Event(e.Sig) // ReadCompact loaded every signature
				ev = *t
				ev.ID, ev.LeadID, ev.Timestamp = e.ID, e.LeadID, e.Time()
				hs = w.sigMatch(leads[*cur], &ev)
				if len(w.sigHits) >= maxInterned {
					clear(w.sigHits) // bounded, like the matcher's memo
				}
				w.sigHits[e.Sig] = hs
			}
			if len(hs) > 0 {
				at := e.Time()
				for _, h := range hs {
					h.hit.EventID, h.hit.At = e.ID, at
					w.buckets[h.bucket] = append(w.buckets[h.bucket], h.hit)
				}
			}
			continue
		}
		t, _ := w.sigs.Event(e.Sig) // ReadCompact loaded every signature
		ev = *t
		ev.ID, ev.LeadID, ev.Timestamp = e.ID, e.LeadID, e.Time()
		w.hits = w.mt.Match(leads[*cur], &ev, w.hits)
	}
	w.flushBuckets()
	if cap(w.compact) > 1<<20 {
		w.compact = nil // do not keep a huge chunk's buffer
	}
	return nil
}

// sigHit is one hit of a signature and the bucket (behavior rule
// position) it goes to.
type sigHit struct {
	bucket int
	hit    scoring.Hit
}

// sigMatch matches a signature's event once.
func (w *bulkScorer) sigMatch(l *leadflow.Lead, ev *leadflow.Event) []sigHit {
	hs := w.mt.Match(l, ev, nil)
	out := make([]sigHit, len(hs))
	for k, h := range hs {
		b, ok := w.ruleBucket[h.Rule]
		if !ok {
			b = len(w.buckets) - 1
		}
		out[k] = sigHit{b, h}
	}
	return out
}

// flushBuckets appends the current lead's hits to w.hits rule by rule:
// each bucket holds its rule's hits in event (time, id) order, so w.hits
// comes out in the order Matcher.Score sorts into, and it need not sort.
func (w *bulkScorer) flushBuckets() {
	for b, hs := range w.buckets {
		if len(hs) > 0 {
			w.hits = append(w.hits, hs...)
			w.buckets[b] = hs[:0]
		}
	}
}
