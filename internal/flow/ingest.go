package flow

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
)

// Ingest stores a request's messages and everything they cause in one
// transaction: a retried message (same source and message id) is stored
// once, and an error leaves nothing behind. It implements segment.Sink.
// The messages are handled set-wise (see batch in ingest_batch.go) with
// the outcome of handling them one by one, in order. On SQLite, requests
// that arrive while another is being written are committed together (see
// groupcommit.go); each is still all or nothing and returns only once its
// events are committed.
func (f *Flow) Ingest(ctx context.Context, writeKey string, msgs []segment.Message) error {
	src, err := f.db.SourceByWriteKey(ctx, writeKey)
	if err != nil {
		return err
	}
	if f.db.Dialect != store.SQLite {
		return f.ingestTx(ctx, []*ingestReq{{source: src.ID, msgs: msgs}})
	}
	return f.group.ingest(ctx, f, &ingestReq{source: src.ID, msgs: msgs})
}

// ingestTx runs the requests' messages in one transaction.
func (f *Flow) ingestTx(ctx context.Context, reqs []*ingestReq) error {
	var keys []string
	for _, r := range reqs {
		keys = append(keys, identityKeys(r.msgs)...)
	}
	for attempt := 0; ; attempt++ {
		err := f.db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.LockKeys(ctx, keys); err != nil {
				return err
			}
			u, err := f.newUnit(ctx, tx)
			if err != nil {
				return err
			}
			for _, r := range reqs {
				if err := u.prefetchIdentities(ctx, r.msgs); err != nil {
					return err
				}
			}
			if err := u.prefetchLeads(ctx); err != nil {
				return err
			}
			b := u.newBatch()
			for _, r := range reqs {
				for i := range r.msgs {
					if err := b.add(ctx, r.source, &r.msgs[i]); err != nil {
						return err
					}
				}
			}
			if err := b.process(ctx); err != nil {
				return err
			}
			return u.flush(ctx)
		})
		// A concurrent request created the same lead (same email) first:
		// run again, and this time find it. Never a 409 to an SDK, which
		// would drop the batch.
		if leadflow.ErrorCode(err) != leadflow.ECONFLICT || attempt == 2 {
			return err
		}
	}
}

// identityKeys names every person a request touches, for LockKeys.
func identityKeys(msgs []segment.Message) []string {
	keys := make([]string, 0, 2*len(msgs))
	for i := range msgs {
		m := &msgs[i]
		if m.UserID != "" {
			keys = append(keys, "u:"+m.UserID)
		}
		if m.AnonymousID != "" {
			keys = append(keys, "a:"+m.AnonymousID)
		}
		if m.PreviousID != "" {
			keys = append(keys, "u:"+m.PreviousID, "a:"+m.PreviousID)
		}
		if email, ok := m.Traits["email"].(string); ok && email != "" {
			keys = append(keys, "e:"+store.NormalizeEmail(email))
		}
	}
	return keys
}

// candidates returns the leads a message names (by user id, email,
// anonymous id and, for an alias, previous id), possibly repeated, and the
// normalised email of the patch.
func (u *unit) candidates(ctx context.Context, m *segment.Message, patch leadflow.LeadPatch) ([]int64, string, error) {
	var candidates []int64
	lookup := func(kind, value string) error {
		if value == "" {
			return nil
		}
		id, err := u.identity(ctx, kind, value)
		if id != 0 {
			candidates = append(candidates, id)
		}
		return err
	}
	if err := lookup(store.IdentityUser, m.UserID); err != nil {
		return nil, "", err
	}
	email := ""
	if patch.Email != nil {
		email = store.NormalizeEmail(*patch.Email)
	}
	if email != "" {
		l, err := u.tx.FindLeadByEmail(ctx, email)
		if err == nil {
			candidates = append(candidates, l.ID)
		} else if leadflow.ErrorCode(err) != leadflow.ENOTFOUND {
			return nil, "", err
		}
	}
	if err := lookup(store.IdentityAnonymous, m.AnonymousID); err != nil {
		return nil, "", err
	}
	if m.Type == leadflow.EventAlias {
		// previousId is an earlier user id or an anonymous id.
		if err := lookup(store.IdentityUser, m.PreviousID); err != nil {
			return nil, "", err
		}
		if err := lookup(store.IdentityAnonymous, m.PreviousID); err != nil {
			return nil, "", err
		}
	}
	return candidates, email, nil
}

// merging reports whether the candidates name more than one lead.
func merging(candidates []int64) bool {
	for _, id := range candidates {
		if id != candidates[0] {
			return true
		}
	}
	return false
}

// resolve finds or creates the lead a message belongs to (candidates and
// email from u.candidates), merging two leads that turn out to be one
// person, and links its user and anonymous ids. It returns nil for an
// anonymous visitor that is not known yet, and the anonymous ids newly
// linked to the lead, whose earlier events the caller attaches.
func (u *unit) resolve(ctx context.Context, m *segment.Message, patch leadflow.LeadPatch, candidates []int64, email string) (*leadState, []string, error) {
	var st *leadState
	var err error
	switch {
	case len(candidates) > 0:
		if st, err = u.load(ctx, minID(candidates)); err != nil {
			return nil, nil, err
		}
		for _, other := range candidates {
			if other != st.lead.ID {
				if err := u.merge(ctx, st, other); err != nil {
					return nil, nil, err
				}
			}
		}
	case m.UserID != "" || email != "" || (m.Type == leadflow.EventIdentify && identifying(patch)):
		l := &leadflow.Lead{Email: email, CreatedAt: m.Timestamp}
		if l.CreatedAt.IsZero() || l.CreatedAt.After(u.tx.Now) {
			l.CreatedAt = u.tx.Now
		}
		if err := u.tx.CreateLead(ctx, l); err != nil {
			return nil, nil, err
		}
		st = u.created(l)
	default:
		return nil, nil, nil
	}
	var linked []string
	link := func(kind, value string) error {
		isNew, err := u.link(ctx, st, kind, value)
		if isNew && kind == store.IdentityAnonymous {
			linked = append(linked, value)
		}
		return err
	}
	if err := link(store.IdentityUser, m.UserID); err != nil {
		return nil, nil, err
	}
	if err := link(store.IdentityAnonymous, m.AnonymousID); err != nil {
		return nil, nil, err
	}
	if m.Type == leadflow.EventAlias && m.PreviousID != "" && m.PreviousID != m.UserID {
		if err := link(store.IdentityAnonymous, m.PreviousID); err != nil {
			return nil, nil, err
		}
	}
	return st, linked, nil
}

// identifying reports whether identify traits say who the person is even
// without an email or user id.
func identifying(p leadflow.LeadPatch) bool {
	return p.Name != nil && strings.TrimSpace(*p.Name) != "" || p.Phone != nil && *p.Phone != ""
}

// link records an identity of the lead and reports whether it is new.
func (u *unit) link(ctx context.Context, st *leadState, kind, value string) (bool, error) {
	if value == "" {
		return false, nil
	}
	k := identKey{kind, value}
	if id, ok := u.idents[k]; ok && id == st.lead.ID {
		return false, nil // linked already: AddIdentity would do nothing
	}
	isNew, err := u.tx.AddIdentity(ctx, kind, value, st.lead.ID)
	if err != nil {
		return false, err
	}
	if isNew {
		u.idents[k] = st.lead.ID
	} else {
		delete(u.idents, k) // linked to some lead: look it up when asked
	}
	return isNew, nil
}

// attach scores the events of a visitor who just became the lead's
// (oldest first): the visitor's first visit is the lead's first touch.
func (u *unit) attach(ctx context.Context, st *leadState, events []*leadflow.Event) error {
	slices.SortFunc(events, func(a, b *leadflow.Event) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for _, ev := range events {
		if err := u.addEvent(ctx, st, ev); err != nil {
			return err
		}
		a := segment.AttributionOf(segment.Message{Context: ev.Context, Properties: ev.Properties})
		if !a.IsZero() && (st.lead.FirstTouch.IsZero() || ev.Timestamp.Before(st.lead.CreatedAt)) {
			st.lead.FirstTouch = a
			if ev.Timestamp.Before(st.lead.CreatedAt) {
				st.lead.CreatedAt = ev.Timestamp
			}
		}
	}
	if len(events) > 0 {
		st.dirty = true
	}
	return nil
}

// merge folds lead `other` into st: identities, events, hits and history
// move over, empty attributes are filled from the other lead, and the
// further stage wins.
func (u *unit) merge(ctx context.Context, st *leadState, other int64) error {
	ost, err := u.load(ctx, other)
	if err != nil {
		return err
	}
	into, from := st.lead, ost.lead
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	if into.Email == "" && from.Email != "" {
		// The unique email index would refuse two rows with one email.
		if err := u.tx.UpdateLead(ctx, &leadflow.Lead{ID: from.ID, Stage: from.Stage, StageAt: from.StageAt,
			CreatedAt: from.CreatedAt}); err != nil {
			return err
		}
		into.Email = from.Email
	}
	fill(&into.Name, from.Name)
	fill(&into.Company, from.Company)
	fill(&into.Title, from.Title)
	fill(&into.Industry, from.Industry)
	fill(&into.Country, from.Country)
	fill(&into.Region, from.Region)
	fill(&into.Phone, from.Phone)
	if into.Employees == 0 {
		into.Employees = from.Employees
	}
	if into.FirstTouch.IsZero() || (!from.FirstTouch.IsZero() && from.CreatedAt.Before(into.CreatedAt)) {
		into.FirstTouch = from.FirstTouch
	}
	if from.CreatedAt.Before(into.CreatedAt) {
		into.CreatedAt = from.CreatedAt
	}
	for k, v := range from.Traits {
		if _, ok := into.Traits[k]; !ok {
			if into.Traits == nil {
				into.Traits = map[string]any{}
			}
			into.Traits[k] = v
		}
	}
	if from.Stage.Rank() > into.Stage.Rank() {
		into.Stage, into.StageAt = from.Stage, from.StageAt
	}
	if into.Owner == "" {
		into.Owner = from.Owner
	}
	if err := u.flushHits(ctx); err != nil { // MergeLeads moves the stored ones
		return err
	}
	if err := u.tx.MergeLeads(ctx, into.ID, from.ID); err != nil {
		return err
	}
	u.forget(from.ID)
	u.identsMoved(from.ID, into.ID)
	st.hits = append(st.hits, ost.hits...)
	st.dirty = true
	if ost.lead.ModelVersion != u.act.Version || st.lead.ModelVersion != u.act.Version {
		return u.rematch(ctx, st)
	}
	return nil
}

func minID(ids []int64) int64 {
	m := ids[0]
	for _, id := range ids[1:] {
		if id < m {
			m = id
		}
	}
	return m
}

// pagePath copies context.page.path into a page event's properties when
// the client only filled the context, so rules over event.properties.path
// see every page view. It reports whether it changed the properties.
func pagePath(ev *leadflow.Event) bool {
	if ev.Type != leadflow.EventPage {
		return false
	}
	if _, ok := ev.Properties["path"]; ok {
		return false
	}
	page, _ := ev.Context["page"].(map[string]any)
	path, ok := page["path"].(string)
	if !ok || path == "" {
		return false
	}
	props := make(map[string]any, len(ev.Properties)+1)
	for k, v := range ev.Properties {
		props[k] = v
	}
	props["path"] = path
	ev.Properties = props
	return true
}
