// Package notify tells people and systems what happened to a lead:
// Standard Webhooks to CRMs and other systems, email to the owner over
// SMTP, and a Slack-compatible chat message. Notifications are inserted as
// jobs in the transaction of the change that causes them and sent by River
// workers, with retries.
package notify

import (
	"context"
	"time"

	"github.com/leadflow/leadflow/internal/store"
)

// Event types sent to webhook endpoints and other channels.
const (
	LeadStageChanged = "lead.stage_changed"
	LeadAssigned     = "lead.assigned"
	LeadRecycled     = "lead.recycled"
	LeadTouchLogged  = "lead.touch_logged"
	SLAWarning       = "sla.warning"
	SLABreached      = "sla.breached"
	DealUpdated      = "deal.updated"
)

// EventTypes lists every event type, for validation of endpoint
// subscriptions.
var EventTypes = []string{LeadStageChanged, LeadAssigned, LeadRecycled, LeadTouchLogged, SLAWarning, SLABreached, DealUpdated}

// Event is one notification. Data is the JSON body's "data" object and
// carries the handoff context of the lead; it is built by the caller, so the
// notify package knows nothing of leads or scoring.
type Event struct {
	Type   string         `json:"type"`
	LeadID int64          `json:"lead_id"`
	At     time.Time      `json:"timestamp"`
	Data   map[string]any `json:"data"`
	// Owner is the user name to email (the lead's owner, or the manager for
	// an escalation); empty sends no email.
	Owner string `json:"-"`
}

// Emitter queues an event's notifications inside the caller's transaction.
type Emitter interface {
	Emit(ctx context.Context, tx *store.Tx, ev Event) error
}
