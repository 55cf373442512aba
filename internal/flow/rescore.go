package flow

import (
	"context"
	"fmt"
	"strconv"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/jobs"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// rescoreChunk is how many leads one rescore transaction handles; progress
// is saved after each chunk, so a crash resumes at the next one.
const rescoreChunk = 500

// ApplyModel validates a model and, when it compiles, stores it as the new
// active version and enqueues the rescore of every lead, all in one
// transaction: an invalid model changes nothing.
func (f *Flow) ApplyModel(ctx context.Context, filename string, src []byte, actor Actor) (*store.ModelVersion, *store.RescoreRun, error) {
	m, err := scoring.Compile(filename, src)
	if err != nil {
		return nil, nil, err
	}
	total, err := f.db.CountLeads(ctx)
	if err != nil {
		return nil, nil, err
	}
	var mv *store.ModelVersion
	var run *store.RescoreRun
	err = f.db.InTx(ctx, func(tx *store.Tx) error {
		if mv, err = tx.CreateModelVersion(ctx, m.Name, string(src), string(actor)); err != nil {
			return err
		}
		if err := tx.ActivateModel(ctx, mv.Version); err != nil {
			return err
		}
		mv.Active = true
		if run, err = tx.CreateRescoreRun(ctx, mv.Version, total); err != nil {
			return err
		}
		if err := f.queue.Insert(ctx, tx, jobs.RescoreArgs{RunID: run.ID}); err != nil {
			return err
		}
		return tx.Audit(ctx, string(actor), "model.apply", "model", int64(mv.Version), m.Name)
	})
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	f.models[mv.Version] = m
	f.mu.Unlock()
	return mv, run, nil
}

// Rescore works a rescore run (the River job ApplyModel enqueues): every
// lead, in id order from where the run left off, is scored again under the
// run's model and re-qualified, with transitions recorded as caused by
// "model vN". Progress is saved with every chunk, so a crashed job resumes
// where it stopped. A run whose model is no longer active stops (the newer
// model's run takes over). See bulk.go for how.
func (f *Flow) Rescore(ctx context.Context, runID int64) error {
	_, err := f.RescoreBulk(ctx, runID, BulkOptions{})
	return err
}

// rescoreEach is the per-lead rescore: each lead loaded, its events matched
// again and its hits replaced, through the same unit as ingestion. Slow
// (several queries per lead) but the reference the bulk path is tested
// against.
func (f *Flow) rescoreEach(ctx context.Context, runID int64) error {
	run, err := f.db.RescoreRunByID(ctx, runID)
	if err != nil {
		return err
	}
	if run.Status != store.RescoreRunning {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, err := f.db.LeadIDsAfter(ctx, run.LastLeadID, rescoreChunk)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return f.db.InTx(ctx, func(tx *store.Tx) error {
				return tx.FinishRescore(ctx, run.ID, store.RescoreDone, "")
			})
		}
		superseded := false
		err = f.db.InTx(ctx, func(tx *store.Tx) error {
			u, err := f.newUnit(ctx, tx)
			if err != nil {
				return err
			}
			if u.act.Version != run.ModelVersion {
				superseded = true
				return tx.FinishRescore(ctx, run.ID, store.RescoreDone, fmt.Sprintf("superseded by model v%d", u.act.Version))
			}
			cause := "model v" + strconv.Itoa(run.ModelVersion)
			changed := int64(0)
			for _, id := range ids {
				st, err := u.load(ctx, id)
				if err != nil {
					return err
				}
				before, stage := st.lead.Score, st.lead.Stage
				if err := u.qualify(ctx, st, nil, cause); err != nil {
					return err
				}
				if st.lead.Score != before || st.lead.Stage != stage {
					changed++
				}
			}
			if err := u.flush(ctx); err != nil {
				return err
			}
			run.Done += int64(len(ids))
			run.Changed += changed
			run.LastLeadID = ids[len(ids)-1]
			if run.Done > run.Total {
				run.Total = run.Done
			}
			return tx.RescoreProgress(ctx, run)
		})
		if err != nil || superseded {
			return err
		}
	}
}

// DecaySweep rescores the leads whose decay step has passed (and only
// those), re-runs their stage rules, then applies the model's expiry rules.
func (f *Flow) DecaySweep(ctx context.Context) error {
	for {
		n := 0
		err := f.db.InTx(ctx, func(tx *store.Tx) error {
			ids, err := tx.LeadIDsDecayDue(ctx, tx.Now, rescoreChunk)
			if err != nil {
				return err
			}
			n = len(ids)
			u, err := f.newUnit(ctx, tx)
			if err != nil {
				return err
			}
			for _, id := range ids {
				st, err := u.load(ctx, id)
				if err != nil {
					return err
				}
				if err := u.qualify(ctx, st, nil, ""); err != nil {
					return err
				}
				// A lead whose next change turned out to be absorbed by a
				// cap keeps a NextDecayAt in the future; mark it written.
				st.dirty = true
			}
			return u.flush(ctx)
		})
		if err != nil {
			return err
		}
		if n < rescoreChunk {
			break
		}
	}
	return f.expire(ctx)
}

// expire applies expiry rules, e.g. an MQL not accepted in 30 days whose
// score fell below 40 goes back to recycled.
func (f *Flow) expire(ctx context.Context) error {
	return f.db.InTx(ctx, func(tx *store.Tx) error {
		u, err := f.newUnit(ctx, tx)
		if err != nil {
			return err
		}
		for _, stage := range leadflow.FunnelStages {
			after, ok := u.act.Model.ExpiryAfter(stage)
			if !ok {
				continue
			}
			ids, err := tx.LeadIDsInStageSince(ctx, stage, tx.Now.Add(-after), 5000)
			if err != nil {
				return err
			}
			for _, id := range ids {
				st, err := u.load(ctx, id)
				if err != nil {
					return err
				}
				r := u.score(st)
				x, ok := u.act.Model.Expiry(st.lead, r, st.lead.StageAt, tx.Now)
				if !ok {
					continue
				}
				cause := fmt.Sprintf("expiry %s (model v%d)", x.Rule, u.act.Version)
				if err := u.transition(ctx, st, x.To, cause, x.Reason, r); err != nil {
					return err
				}
			}
		}
		return u.flush(ctx)
	})
}

// Explanation is a lead's score explanation as of now, with the thresholds
// of the active model and how far the lead is from its next stage.
type Explanation struct {
	LeadID       int64                      `json:"lead_id"`
	Stage        leadflow.Stage             `json:"stage"`
	ModelVersion int                        `json:"model_version"`
	Thresholds   map[leadflow.Stage]float64 `json:"thresholds"`
	scoring.Explanation
}

// Explain scores a lead as of now without writing anything.
func (f *Flow) Explain(ctx context.Context, leadID int64) (*Explanation, string, error) {
	act, _, err := f.ActiveModel(ctx)
	if err != nil {
		return nil, "", err
	}
	l, err := f.db.FindLead(ctx, leadID)
	if err != nil {
		return nil, "", err
	}
	var hits []scoring.Hit
	if l.ModelVersion == act.Version {
		stored, err := f.db.HitsOfLead(ctx, leadID)
		if err != nil {
			return nil, "", err
		}
		for _, h := range stored {
			hits = append(hits, scoring.Hit{Rule: h.Rule, EventID: h.EventID, EventName: h.Label, At: h.At, Points: h.Points})
		}
	} else {
		events, err := f.db.EventsOfLead(ctx, leadID)
		if err != nil {
			return nil, "", err
		}
		mt := act.Model.NewMatcher()
		for i := range events {
			hits = mt.Match(l, &events[i], hits)
		}
	}
	now := f.db.Now().UTC()
	r := act.Model.Score(act.Model.Fit(l, now), hits, now)
	r.Explanation.NextStage = act.Model.NextStage(l.Stage, r.Score)
	out := &Explanation{LeadID: l.ID, Stage: l.Stage, ModelVersion: act.Version, Thresholds: act.Model.Thresholds(),
		Explanation: r.Explanation}
	return out, r.Explanation.Text("en"), nil
}

func itoa(n int) string { return strconv.Itoa(n) }
