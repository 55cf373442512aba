package flow

import (
	"context"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
)

// batch ingests a transaction's messages set-wise, in runs: every message
// of a run is resolved first (identities, new leads, links), then the
// run's events are inserted with one statement, then each new event is
// matched, scored and qualified in message order. A message that merges
// two leads ends the run before it, so that a merge always sees every
// earlier event stored and scored, as when messages are handled one by
// one; merges are rare, so a batch is usually one run.
//
// An anonymous visitor's event waits in the run with no lead; when a later
// message of the run links the visitor's anonymous id to a lead, the event
// is inserted with that lead and scored with the visitor's stored events
// at that message (the stored ones are attached with one statement for the
// run).
type batch struct {
	u    *unit
	msgs []batchMsg
	// anon lists, per anonymous id not linked to a lead, the run's
	// messages of that visitor (indexes into msgs).
	anon map[string][]int
	// links are the anonymous ids the run linked to leads, whose stored
	// events process attaches; linkedAt tells which message linked each.
	links    []store.AnonymousLink
	linkedAt map[string]int
}

// batchMsg is one message of the run.
type batchMsg struct {
	m     *segment.Message
	ev    leadflow.Event
	raw   [2][]byte // properties, context as received (nil: marshal ev's)
	patch leadflow.LeadPatch
	st    *leadState // nil: an anonymous visitor not known (yet)
	// attached are the visitor events this message's identities brought
	// to its lead: stored ones (AttachAnonymousMany) and earlier messages
	// of the run (indexes into msgs), scored before the message's own
	// event.
	attached []leadflow.Event
	pending  []int
	isNew    bool
}

func (u *unit) newBatch() *batch {
	return &batch{u: u, anon: map[string][]int{}, linkedAt: map[string]int{}}
}

// add resolves a message and queues its event in the run.
func (b *batch) add(ctx context.Context, sourceID int64, m *segment.Message) error {
	u := b.u
	x := batchMsg{m: m, ev: m.ToEvent()}
	x.ev.SourceID = sourceID
	x.raw[0], x.raw[1] = m.EventJSON()
	if pagePath(&x.ev) {
		x.raw[0] = nil // properties gained the page path
	}
	switch m.Type {
	case leadflow.EventIdentify:
		// A reserved trait of the wrong type stays in Traits (the patch
		// still carries everything usable); refusing the event would lose it.
		x.patch, _ = segment.TraitsPatch(m.Traits)
	case leadflow.EventGroup:
		x.patch = segment.GroupPatch(m.Traits)
	}
	candidates, email, err := u.candidates(ctx, m, x.patch)
	if err != nil {
		return err
	}
	if merging(candidates) {
		// Store and score the run so far; m starts the next one.
		if err := b.process(ctx); err != nil {
			return err
		}
	}
	st, linked, err := u.resolve(ctx, m, x.patch, candidates, email)
	if err != nil {
		return err
	}
	b.msgs = append(b.msgs, x)
	i := len(b.msgs) - 1
	b.msgs[i].st = st
	if st == nil {
		if m.AnonymousID != "" {
			b.anon[m.AnonymousID] = append(b.anon[m.AnonymousID], i)
		}
		return nil
	}
	b.msgs[i].ev.LeadID = st.lead.ID
	for _, a := range linked {
		b.links = append(b.links, store.AnonymousLink{AnonymousID: a, LeadID: st.lead.ID})
		b.linkedAt[a] = i
		for _, j := range b.anon[a] {
			b.msgs[j].ev.LeadID = st.lead.ID
			b.msgs[i].pending = append(b.msgs[i].pending, j)
		}
		delete(b.anon, a)
	}
	return nil
}

// process inserts the run's events and handles each new one in order;
// the run is then empty.
func (b *batch) process(ctx context.Context) error {
	u := b.u
	defer func() {
		b.msgs, b.links = b.msgs[:0], b.links[:0]
		clear(b.anon)
		clear(b.linkedAt)
	}()
	if len(b.msgs) == 0 {
		return nil
	}
	stored, err := u.tx.AttachAnonymousMany(ctx, b.links)
	if err != nil {
		return err
	}
	for _, ev := range stored {
		x := &b.msgs[b.linkedAt[ev.AnonymousID]]
		x.attached = append(x.attached, ev)
	}
	rows := make([]store.EventRow, len(b.msgs))
	for i := range b.msgs {
		x := &b.msgs[i]
		rows[i] = store.EventRow{Event: &x.ev, Properties: x.raw[0], Context: x.raw[1]}
	}
	if err := u.tx.InsertEvents(ctx, rows); err != nil {
		return err
	}
	for i := range b.msgs {
		b.msgs[i].isNew = rows[i].New
	}
	var events []*leadflow.Event
	for i := range b.msgs {
		x := &b.msgs[i]
		if len(x.attached)+len(x.pending) > 0 {
			events = events[:0]
			for j := range x.attached {
				events = append(events, &x.attached[j])
			}
			for _, j := range x.pending {
				if b.msgs[j].isNew {
					events = append(events, &b.msgs[j].ev)
				}
			}
			if err := u.attach(ctx, x.st, events); err != nil {
				return err
			}
		}
		if !x.isNew || x.st == nil {
			continue // a duplicate or an anonymous visit: nothing more to do
		}
		if err := u.ingested(ctx, x); err != nil {
			return err
		}
	}
	return nil
}

// ingested applies a new event of a known lead: traits, attribution, hits,
// nurture exits, score and stage rules.
func (u *unit) ingested(ctx context.Context, x *batchMsg) error {
	st, l := x.st, x.st.lead
	if x.patch.Apply(l) {
		st.dirty = true
	}
	// A touch that changes nothing (the same campaign again) leaves the
	// lead as it is: no write, and updated_at does not move.
	if a := segment.AttributionOf(*x.m); !a.IsZero() {
		if l.FirstTouch.IsZero() {
			l.FirstTouch, st.dirty = a, true
		}
		if l.LastTouch != a {
			l.LastTouch, st.dirty = a, true
		}
	}
	if err := u.addEvent(ctx, st, &x.ev); err != nil {
		return err
	}
	if err := u.nurtureOnEvent(ctx, st, &x.ev); err != nil {
		return err
	}
	return u.qualify(ctx, st, &x.ev, "")
}
