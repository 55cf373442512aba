// Package segment receives events in the format of the Segment HTTP Tracking
// API, so that Segment and RudderStack libraries (analytics-node,
// analytics.js, rudder-sdk-node, …) and their webhook destinations can send
// to leadflow unchanged.
//
// The package decodes and validates calls (identify, track, page, screen,
// group, alias, batch), corrects their timestamps for client clock skew the
// way Segment does, and hands every request's messages to a Sink in one
// piece. It knows nothing of storage; mapping traits onto leads is offered
// as pure helpers (TraitsPatch, GroupPatch, AttributionOf) for the flow.
package segment

import (
	"time"

	"github.com/leadflow/leadflow"
)

// Limits of the Segment HTTP Tracking API. Segment answers 400 (not 413)
// when they are exceeded, and the SDKs treat 400 as "do not retry", so this
// package does the same.
const (
	// MaxMessageBytes is the size limit of one message: the body of a single
	// call, or one element of a batch, after decompression.
	MaxMessageBytes = 32 << 10
	// MaxBatchBytes is the size limit of a batch request after decompression.
	MaxBatchBytes = 500 << 10
	// MaxBatchMessages is the most messages one batch may carry.
	MaxBatchMessages = 2500
)

// Message is one decoded and validated Segment call.
type Message struct {
	// Type is identify, track, page, group or alias; screen calls become page.
	Type leadflow.EventType
	// MessageID is the client's messageId, or a content hash when absent
	// (see Decode).
	MessageID   string
	UserID      string
	AnonymousID string
	// Event is the name of a track call.
	Event string
	// Name and Category are those of a page or screen call.
	Name, Category string
	// GroupID is the account of a group call.
	GroupID string
	// PreviousID is the identity an alias call merges into UserID.
	PreviousID string

	Properties   map[string]any
	Traits       map[string]any
	Context      map[string]any
	Integrations map[string]any

	// Timestamp is when the event happened, corrected for the clock skew of
	// the sender: receivedAt − (sentAt − originalTimestamp).
	Timestamp time.Time
	// ReceivedAt is when leadflow received the request.
	ReceivedAt time.Time
	// ClientTime is the time the sender wrote in the message
	// (originalTimestamp, else timestamp), zero when it wrote none: part
	// of the key an old message's retry is recognised by
	// (leadflow.Event.ClientTime).
	ClientTime time.Time

	raw rawJSON // the request's text of the maps (see EventJSON)
}

// ToEvent turns m into the event record leadflow keeps. Name is the event of
// a track call and the name of a page (empty when the page has none).
// Identify and group calls keep their traits as the event's properties and
// an alias its previousId, so that the event log alone tells what happened.
func (m Message) ToEvent() leadflow.Event {
	e := leadflow.Event{
		MessageID:   m.MessageID,
		AnonymousID: m.AnonymousID,
		UserID:      m.UserID,
		Type:        m.Type,
		Properties:  m.Properties,
		Context:     m.Context,
		Timestamp:   m.Timestamp,
		ReceivedAt:  m.ReceivedAt,
		ClientTime:  m.ClientTime,
	}
	switch m.Type {
	case leadflow.EventTrack:
		e.Name = m.Event
	case leadflow.EventPage:
		e.Name = m.Name
	case leadflow.EventIdentify:
		e.Properties = m.Traits
	case leadflow.EventGroup:
		e.Properties = make(map[string]any, len(m.Traits)+1)
		for k, v := range m.Traits {
			e.Properties[k] = v
		}
		e.Properties["groupId"] = m.GroupID
	case leadflow.EventAlias:
		e.Properties = map[string]any{"previousId": m.PreviousID}
	}
	return e
}
