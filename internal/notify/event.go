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

// Keys of Event.Data that email and chat messages show: the handoff
// context. Every key is optional; webhooks carry the whole map as given,
// plus lead_id and lead_url. Values may be any JSON-serialisable value
// (structs are read through their JSON form).
const (
	// DataLead is the lead as the API shows it (leadflow.Lead): name,
	// email, company, title, stage, score, owner, first_touch, bant, ….
	DataLead = "lead"
	// DataFrom and DataTo are the stages of a stage change.
	DataFrom = "from"
	DataTo   = "to"
	// DataReason says why: the rule that fired, or a person's reason.
	DataReason = "reason"
	// DataRule is the id of the stage or routing rule that fired.
	DataRule = "rule"
	// DataScore is the score (a number), when it is not the lead's own.
	DataScore = "score"
	// DataOwner is the owner's user name; DataPreviousOwner the one before.
	DataOwner         = "owner"
	DataPreviousOwner = "previous_owner"
	// DataSLA is the running SLA clock: {policy, due_at, warn_at} (times
	// in RFC 3339).
	DataSLA = "sla"
	// DataTopContent lists titles or paths of the content the lead read.
	DataTopContent = "top_content"
	// DataTouch and DataDeal are the touch logged and the deal updated.
	DataTouch = "touch"
	DataDeal  = "deal"
	// DataLeadID and DataLeadURL are added by the notifier.
	DataLeadID  = "lead_id"
	DataLeadURL = "lead_url"
)

// ValidEventType reports whether t is one of EventTypes.
func ValidEventType(t string) bool {
	for _, e := range EventTypes {
		if e == t {
			return true
		}
	}
	return false
}
