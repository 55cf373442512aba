package flow

import (
	"context"
	"fmt"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/store"
)

// NurtureBounce records one bounce in one transaction: the bounce row
// (a bounce reported twice counts once), the bounce on the send it names,
// the suppression of the address when it bounced hard or reached the
// soft-bounce limit of the nurture settings (every enrolment of the lead
// then ends with reason "bounced"), and an "Email Bounced" event for the
// lead, stored and scored through the same path as ingested events.
// b must have passed nurture.CheckBounces.
func (f *Flow) NurtureBounce(ctx context.Context, b nurture.BounceReport) (*nurture.BounceResult, error) {
	var res *nurture.BounceResult
	err := f.db.InTx(ctx, func(tx *store.Tx) error {
		res = &nurture.BounceResult{Type: b.Type, Email: b.Email}
		send, err := bounceSend(ctx, tx, b)
		if err != nil {
			return err
		}
		if send != nil {
			res.SendID, res.LeadID = send.ID, send.LeadID
			if res.Email == "" {
				res.Email = send.Email
			}
		}
		if res.Email == "" {
			res.Status = nurture.BounceUnknown
			return nil
		}
		if res.LeadID == 0 {
			l, err := tx.FindLeadByEmail(ctx, res.Email)
			switch {
			case err == nil:
				res.LeadID = l.ID
			case leadflow.ErrorCode(err) != leadflow.ENOTFOUND:
				return err
			}
		}
		row := &store.Bounce{Email: res.Email, Kind: b.Type, Reason: b.Reason, MessageID: b.MessageID, LeadID: res.LeadID,
			SendID: res.SendID, At: b.At}
		isNew, err := tx.RecordBounce(ctx, row)
		if err != nil {
			return err
		}
		res.Email = row.Email
		if !isNew {
			res.Status = nurture.BounceDuplicate
			return nil
		}
		res.Status = nurture.BounceRecorded
		if send != nil {
			if err := tx.MarkSendBounced(ctx, send.ID, b.Type, b.At); err != nil {
				return err
			}
			if b.Type == store.BounceHard && send.Status == store.SendPending {
				if _, err := tx.FinishSend(ctx, send.ID, store.SendSkipped, ""); err != nil {
					return err
				}
			}
		}
		settings, err := nurtureSettings(ctx, tx)
		if err != nil {
			return err
		}
		if b.Type == store.BounceSoft {
			if res.SoftCount, err = tx.CountBounces(ctx, res.Email, store.BounceSoft, settings.Bounces.SoftSince(b.At)); err != nil {
				return err
			}
		}
		if settings.Bounces.SuppressesAfter(b.Type, res.SoftCount) {
			res.Suppressed = true
			if err := tx.Suppress(ctx, res.Email, "bounced", res.LeadID); err != nil {
				return err
			}
			if res.LeadID != 0 {
				if res.Exited, err = nurture.ExitAllCount(ctx, tx, res.LeadID, nurture.ExitBounced); err != nil {
					return err
				}
			}
		}
		if res.LeadID == 0 {
			return nil
		}
		return f.bounceEvent(ctx, tx, res, row)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// bounceSend finds the send a bounce names (nil when it names none or
// one leadflow did not send).
func bounceSend(ctx context.Context, tx *store.Tx, b nurture.BounceReport) (*store.Send, error) {
	var send *store.Send
	var err error
	switch {
	case b.SendID != 0:
		send, err = tx.Send(ctx, b.SendID)
	case b.MessageID != "":
		send, err = tx.SendByMessageID(ctx, b.MessageID)
	default:
		return nil, nil
	}
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		return nil, nil
	}
	return send, err
}

// bounceEvent stores and scores the lead's "Email Bounced" event.
func (f *Flow) bounceEvent(ctx context.Context, tx *store.Tx, res *nurture.BounceResult, row *store.Bounce) error {
	u, err := f.newUnit(ctx, tx)
	if err != nil {
		return err
	}
	st, err := u.load(ctx, res.LeadID)
	if err != nil {
		return err
	}
	props := map[string]any{"type": row.Kind, "suppressed": res.Suppressed}
	if row.Reason != "" {
		props["reason"] = row.Reason
	}
	if row.MessageID != "" {
		props["message_id"] = row.MessageID
	}
	ev := leadflow.Event{MessageID: fmt.Sprintf("nurture-bounce-%d", row.ID), LeadID: st.lead.ID, Type: leadflow.EventTrack,
		Name: nurture.EventEmailBounced, Properties: props,
		Context:   map[string]any{"library": map[string]any{"name": "leadflow-nurture"}},
		Timestamp: row.At, ReceivedAt: tx.Now}
	isNew, err := tx.InsertEvent(ctx, &ev)
	if err != nil {
		return err
	}
	if isNew {
		if err := u.addEvent(ctx, st, &ev); err != nil {
			return err
		}
		if err := u.qualify(ctx, st, &ev, ""); err != nil {
			return err
		}
	}
	return u.flush(ctx)
}

// nurtureSettings reads the nurture settings in force in tx.
func nurtureSettings(ctx context.Context, tx *store.Tx) (*nurture.Settings, error) {
	s, err := tx.Setting(ctx, store.SettingNurture)
	if leadflow.ErrorCode(err) == leadflow.ENOTFOUND {
		d := nurture.DefaultSettings
		return &d, nil
	} else if err != nil {
		return nil, err
	}
	return nurture.ParseSettings([]byte(s.Value))
}
