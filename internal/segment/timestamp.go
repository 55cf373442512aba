package segment

import (
	"time"
)

// timeLayouts are the ISO 8601 forms accepted, most common first. Go's
// parser treats the fraction as optional after ".999999999", so each layout
// covers both forms. A time without an offset is read as UTC.
var timeLayouts = [...]string{
	time.RFC3339Nano,                      // 2024-05-01T09:30:00.123+09:00, …Z
	"2006-01-02T15:04:05.999999999Z0700",  // +0900
	"2006-01-02T15:04:05.999999999Z07",    // +09
	"2006-01-02T15:04:05.999999999",       // no offset
	"2006-01-02 15:04:05.999999999Z07:00", // space instead of T
	"2006-01-02 15:04:05.999999999",       // space, no offset
	"2006-01-02T15:04Z07:00",              // no seconds
	"2006-01-02",                          // date only
}

// parseTime reads an ISO 8601 / RFC 3339 time.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// stamps are the raw time fields of a message.
type stamps struct {
	timestamp, originalTimestamp, sentAt string
}

// client is the time the sender wrote: originalTimestamp, else timestamp,
// zero without either. correct has checked that they parse.
func (s stamps) client() time.Time {
	for _, v := range [...]string{s.originalTimestamp, s.timestamp} {
		if v != "" {
			t, _ := parseTime(v)
			return t.UTC()
		}
	}
	return time.Time{}
}

// correct computes the event time the way Segment does. When sentAt is
// known, the client's clock is assumed off by a constant, so the time is
// receivedAt − (sentAt − originalTimestamp), with timestamp standing in for
// a missing originalTimestamp. Without sentAt the given time is trusted;
// without any time the event happened when it was received.
//
// A message with both timestamp and originalTimestamp (RudderStack's SDKs
// send the caller's timestamp, e.g. a backdated import, next to the call
// time) keeps timestamp as given, as RudderStack's own server does. It
// returns the name of the field that does not parse.
func (s stamps) correct(receivedAt time.Time) (time.Time, string) {
	var base time.Time
	if s.originalTimestamp != "" && s.timestamp != "" {
		ts, ok := parseTime(s.timestamp)
		if !ok {
			return time.Time{}, "timestamp"
		}
		ot, ok := parseTime(s.originalTimestamp)
		if !ok {
			return time.Time{}, "originalTimestamp"
		}
		if !ts.Equal(ot) {
			if s.sentAt != "" {
				if _, ok := parseTime(s.sentAt); !ok {
					return time.Time{}, "sentAt"
				}
			}
			return ts.UTC(), ""
		}
	}
	switch {
	case s.originalTimestamp != "":
		t, ok := parseTime(s.originalTimestamp)
		if !ok {
			return time.Time{}, "originalTimestamp"
		}
		base = t
	case s.timestamp != "":
		t, ok := parseTime(s.timestamp)
		if !ok {
			return time.Time{}, "timestamp"
		}
		base = t
	}
	var sent time.Time
	if s.sentAt != "" {
		t, ok := parseTime(s.sentAt)
		if !ok {
			return time.Time{}, "sentAt"
		}
		sent = t
	}
	switch {
	case base.IsZero():
		return receivedAt.UTC(), ""
	case sent.IsZero():
		return base.UTC(), ""
	}
	// base.Sub(sent) saturates instead of overflowing on absurd inputs.
	return receivedAt.Add(base.Sub(sent)).UTC(), ""
}
