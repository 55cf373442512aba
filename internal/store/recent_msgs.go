package store

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"strconv"
	"sync"

	"github.com/leadflow/leadflow"
)

// recentMax is how many of the last stored messages the window holds
// (about 10 MB): days of a B2B company's traffic, tens of seconds of a
// burst of 10,000 events/s. A variable for tests.
var recentMax = 1 << 18

// recentMsgs remembers the (source, message id) of the last recentMax
// events stored through this process, so that a message repeating one of
// them is recognised by its id alone, as Segment does, whatever client
// time it carries. Older messages are recognised by the unique index,
// which also needs the client time to match (migration 00017): keying
// that index by time keeps its inserts at its recent end, and an index on
// the random message ids alone would scatter them. A hit is confirmed by
// reading the stored event, so a hash collision or an event whose
// transaction rolled back is never taken for a repeat.
type recentMsgs struct {
	mu     sync.Mutex
	loaded bool
	seed   maphash.Seed
	ids    map[uint64]int64 // hash of (source, message id) → event id
	ring   []uint64         // the hashes in insertion order, for eviction
	next   int
}

func newRecentMsgs() *recentMsgs {
	return &recentMsgs{seed: maphash.MakeSeed(), ids: make(map[uint64]int64)}
}

func (w *recentMsgs) hash(source int64, msg string) uint64 {
	var h maphash.Hash
	h.SetSeed(w.seed)
	var b [20]byte
	h.Write(strconv.AppendInt(b[:0], source, 10))
	h.WriteByte(0)
	h.WriteString(msg)
	return h.Sum64()
}

// add records a stored event. The caller holds w.mu.
func (w *recentMsgs) add(source int64, msg string, id int64) {
	h := w.hash(source, msg)
	if len(w.ring) < recentMax {
		w.ring = append(w.ring, h)
	} else {
		delete(w.ids, w.ring[w.next])
		w.ring[w.next] = h
		w.next = (w.next + 1) % recentMax
	}
	w.ids[h] = id
}

// load fills the window with the last events stored, once per process.
// The caller holds w.mu.
func (w *recentMsgs) load(ctx context.Context, tx *Tx) error {
	if w.loaded {
		return nil
	}
	rows, err := tx.query(ctx, "EventsRecent", recentMax)
	if err != nil {
		return wrapDB(err, "recent events")
	}
	defer rows.Close()
	type ev struct {
		id, source int64
		msg        string
	}
	var evs []ev
	for rows.Next() {
		var e ev
		if err := rows.Scan(&e.id, &e.source, &e.msg); err != nil {
			return wrapDB(err, "recent events")
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return wrapDB(err, "recent events")
	}
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		w.add(evs[i].source, evs[i].msg, evs[i].id)
	}
	w.loaded = true
	return nil
}

// repeats returns, for each row whose (source, message id) is that of a
// recently stored event, the index of the row. The caller holds w.mu.
func (w *recentMsgs) repeats(ctx context.Context, tx *Tx, rows []EventRow) (map[int]bool, error) {
	cand := map[int64][]int{} // stored event id → rows
	for i := range rows {
		e := rows[i].Event
		if id, ok := w.ids[w.hash(e.SourceID, e.MessageID)]; ok {
			cand[id] = append(cand[id], i)
		}
	}
	if len(cand) == 0 {
		return nil, nil
	}
	ids := make([]int64, 0, len(cand))
	for id := range cand {
		ids = append(ids, id)
	}
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, leadflow.Internal(err, "recent events")
	}
	res, err := tx.query(ctx, "EventsByIDs", string(arg))
	if err != nil {
		return nil, wrapDB(err, "recent events")
	}
	defer res.Close()
	out := map[int]bool{}
	for res.Next() {
		var id, source int64
		var msg string
		if err := res.Scan(&id, &source, &msg); err != nil {
			return nil, wrapDB(err, "recent events")
		}
		for _, i := range cand[id] {
			if e := rows[i].Event; e.SourceID == source && e.MessageID == msg {
				out[i] = true
			}
		}
	}
	return out, wrapDB(res.Err(), "recent events")
}
