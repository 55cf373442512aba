package flow

import (
	"context"
	"slices"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
)

// identKey is a user or anonymous id (store.IdentityUser, IdentityAnonymous).
type identKey struct{ kind, value string }

// identity returns the lead known by the identity (0: none), from the
// unit's cache when it has been looked up, linked or prefetched in this
// transaction.
func (u *unit) identity(ctx context.Context, kind, value string) (int64, error) {
	k := identKey{kind, value}
	if id, ok := u.idents[k]; ok {
		return id, nil
	}
	id, err := u.tx.LeadIDByIdentity(ctx, kind, value)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		id, err = 0, nil
	}
	if err != nil {
		return 0, err
	}
	u.idents[k] = id
	return id, nil
}

// identsMoved rewrites the cache after lead from was merged into into
// (store.MergeLeads moved its identities).
func (u *unit) identsMoved(from, into int64) {
	for k, id := range u.idents {
		if id == from {
			u.idents[k] = into
		}
	}
}

// prefetchIdentities resolves every user and anonymous id the messages name
// with one statement per kind, so that resolving each message reads no
// identity from the database.
func (u *unit) prefetchIdentities(ctx context.Context, msgs []segment.Message) error {
	want := map[string][]string{}
	seen := map[identKey]bool{}
	add := func(kind, value string) {
		k := identKey{kind, value}
		if value == "" || seen[k] {
			return
		}
		if _, ok := u.idents[k]; ok {
			return
		}
		seen[k] = true
		want[kind] = append(want[kind], value)
	}
	for i := range msgs {
		m := &msgs[i]
		add(store.IdentityUser, m.UserID)
		add(store.IdentityAnonymous, m.AnonymousID)
		if m.Type == leadflow.EventAlias {
			add(store.IdentityUser, m.PreviousID)
			add(store.IdentityAnonymous, m.PreviousID)
		}
	}
	for kind, values := range want {
		found, err := u.tx.LeadIDsByIdentities(ctx, kind, values)
		if err != nil {
			return err
		}
		for _, v := range values {
			u.idents[identKey{kind, v}] = found[v] // 0: not known yet
		}
	}
	return nil
}

// prefetchLeads loads every lead the unit's identities name (and is not
// holding yet) with their hits, with one statement each, in id order.
func (u *unit) prefetchLeads(ctx context.Context) error {
	var ids []int64
	for _, id := range u.idents {
		if _, ok := u.leads[id]; id != 0 && !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	leads, err := u.tx.LeadsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	current := ids[:0]
	for _, l := range leads {
		if l.ModelVersion == u.act.Version {
			current = append(current, l.ID)
		}
	}
	hits, err := u.tx.HitsOfLeads(ctx, current)
	if err != nil {
		return err
	}
	for _, l := range leads {
		if l.ModelVersion != u.act.Version {
			if _, err := u.state(ctx, l); err != nil { // matched again
				return err
			}
			continue
		}
		u.leads[l.ID] = &leadState{lead: l, hits: fromStoreHits(hits[l.ID])}
		u.order = append(u.order, l.ID)
	}
	return nil
}
