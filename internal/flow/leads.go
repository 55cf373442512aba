package flow

import (
	"context"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/csvimport"
	"github.com/leadflow/leadflow/internal/lifecycle"
	"github.com/leadflow/leadflow/internal/store"
)

// CreateLead creates a lead from a patch (email required), scores and
// qualifies it.
func (f *Flow) CreateLead(ctx context.Context, p leadflow.LeadPatch, actor Actor) (*leadflow.Lead, error) {
	if p.Email == nil || store.NormalizeEmail(*p.Email) == "" {
		return nil, leadflow.Invalidf("/email", "email is required")
	}
	var out *leadflow.Lead
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		l := &leadflow.Lead{}
		p.Apply(l)
		if err := tx.CreateLead(ctx, l); err != nil {
			return err
		}
		st, err := u.state(ctx, l)
		if err != nil {
			return err
		}
		if err := u.qualify(ctx, st, nil, ""); err != nil {
			return err
		}
		if err := tx.Audit(ctx, string(actor), "lead.create", "lead", l.ID, ""); err != nil {
			return err
		}
		out = l
		return u.flush(ctx)
	})
	return out, err
}

// UpdateLead applies a patch (attributes or BANT), then re-scores and
// re-qualifies the lead in the same transaction.
func (f *Flow) UpdateLead(ctx context.Context, id int64, p leadflow.LeadPatch, actor Actor) (*leadflow.Lead, error) {
	if p.Email != nil && store.NormalizeEmail(*p.Email) == "" {
		return nil, leadflow.Invalidf("/email", "email cannot be emptied")
	}
	var out *leadflow.Lead
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		st, err := u.load(ctx, id)
		if err != nil {
			return err
		}
		if p.Apply(st.lead) {
			st.dirty = true
		}
		if err := u.qualify(ctx, st, nil, ""); err != nil {
			return err
		}
		out = st.lead
		return u.flush(ctx)
	})
	return out, err
}

// MoveLead is a manual stage change by a person or API client (recycle,
// disqualify, accept, …), validated by the lifecycle rules.
func (f *Flow) MoveLead(ctx context.Context, id int64, to leadflow.Stage, reason string, actor Actor) (*leadflow.Lead, error) {
	var out *leadflow.Lead
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		st, err := u.load(ctx, id)
		if err != nil {
			return err
		}
		if err := lifecycle.CanMove(st.lead.Stage, to, true); err != nil {
			return err
		}
		r := u.score(st)
		if err := u.transition(ctx, st, to, string(actor), reason, r); err != nil {
			return err
		}
		out = st.lead
		return u.flush(ctx)
	})
	return out, err
}

// EraseLead removes a lead's personal data.
func (f *Flow) EraseLead(ctx context.Context, id int64, actor Actor) error {
	return f.db.InTx(ctx, func(tx *store.Tx) error { return tx.EraseLead(ctx, id, string(actor)) })
}

// ImportResult says what an import did.
type ImportResult struct {
	Created  int                `json:"created"`
	Updated  int                `json:"updated"`
	Rejected []csvimport.Reject `json:"rejected"`
	Columns  map[string]string  `json:"columns"`
	Encoding string             `json:"encoding"`
}

// Import upserts parsed CSV rows by email in one transaction: either every
// valid row is stored, or (on any error) none is. progress, when set, is
// called after each row.
func (f *Flow) Import(ctx context.Context, res *csvimport.Result, actor Actor, progress func(done int)) (*ImportResult, error) {
	out := &ImportResult{Rejected: res.Rejects, Columns: res.Columns, Encoding: res.Encoding}
	if out.Rejected == nil {
		out.Rejected = []csvimport.Reject{}
	}
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		out.Created, out.Updated = 0, 0
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		for i, row := range res.Rows {
			l, err := tx.FindLeadByEmail(ctx, *row.Patch.Email)
			switch {
			case err == nil:
				out.Updated++
			case leadflow.ErrorCode(err) == leadflow.ENOTFOUND:
				l = &leadflow.Lead{}
				row.Patch.Apply(l)
				if err := tx.CreateLead(ctx, l); err != nil {
					return err
				}
				out.Created++
			default:
				return err
			}
			st, err := u.state(ctx, l)
			if err != nil {
				return err
			}
			if row.Patch.Apply(st.lead) {
				st.dirty = true
			}
			if err := u.qualify(ctx, st, nil, ""); err != nil {
				return err
			}
			if progress != nil {
				progress(i + 1)
			}
		}
		if err := u.flush(ctx); err != nil {
			return err
		}
		return tx.Audit(ctx, string(actor), "lead.import", "import", 0,
			"created "+itoa(out.Created)+", updated "+itoa(out.Updated)+", rejected "+itoa(len(out.Rejected)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
