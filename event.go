package leadflow

import "time"

// EventType is the Segment call that produced an event.
type EventType string

// Event types, as in the Segment spec.
const (
	EventIdentify EventType = "identify"
	EventTrack    EventType = "track"
	EventPage     EventType = "page"
	EventGroup    EventType = "group"
	EventAlias    EventType = "alias"
)

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	switch t {
	case EventIdentify, EventTrack, EventPage, EventGroup, EventAlias:
		return true
	}
	return false
}

// Event is an immutable record of something a lead or visitor did.
type Event struct {
	ID          int64     `json:"id"`
	SourceID    int64     `json:"source_id"`
	MessageID   string    `json:"message_id"`
	LeadID      int64     `json:"lead_id,omitempty"` // 0 while the visitor is anonymous
	AnonymousID string    `json:"anonymous_id,omitempty"`
	UserID      string    `json:"user_id,omitempty"`
	Type        EventType `json:"type"`
	// Name is the track event name ("Document Downloaded") or the page name.
	Name       string         `json:"name,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	Context    map[string]any `json:"context,omitempty"`
	Timestamp  time.Time      `json:"timestamp"`
	ReceivedAt time.Time      `json:"received_at"`
	// ClientTime is the sender's own time of the message as it sent it
	// (originalTimestamp, else timestamp; zero when it sent neither). With
	// the source and the message id it is the key a message repeating an
	// old one is recognised by (SDKs resend a message byte for byte); a
	// recent one is recognised by source and message id alone.
	ClientTime time.Time `json:"-"`
}
