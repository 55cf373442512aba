package segment

import (
	"bytes"
	"encoding/json"

	"github.com/leadflow/leadflow"
)

// rawJSON is the JSON text of a message's properties, traits and context
// as the client sent them, each kept only while it is exactly what the
// decoded map holds: nil when the field is absent or null, when a batch's
// context or context.traits was merged in, or when its text is ambiguous
// (a repeated key, a key spelled with escapes).
type rawJSON struct {
	properties, traits, context []byte
}

// EventJSON returns the JSON text of the properties and context of the
// event m.ToEvent() makes, when the request's own bytes are that text
// (nil otherwise: marshal the event's maps). Storing them as received
// saves encoding the maps again; a sink that changes the maps must not use
// them.
func (m *Message) EventJSON() (properties, context []byte) {
	switch m.Type {
	case leadflow.EventTrack, leadflow.EventPage:
		properties = m.raw.properties
	case leadflow.EventIdentify:
		properties = m.raw.traits
	}
	return properties, m.raw.context
}

// Indexes of the fields rawObjects looks for.
const (
	rawProperties = iota
	rawTraits
	rawContext
)

var rawNames = [...][]byte{rawProperties: []byte("properties"), rawTraits: []byte("traits"), rawContext: []byte("context")}

// rawObjects finds the values of the properties, traits and context keys
// of a message object that encoding/json has accepted. A field is returned
// only when exactly one key names it (encoding/json matches keys without
// regard to case) and its value is an object.
func rawObjects(msg []byte) (out [3][]byte) {
	var seen [3]int
	i := skipWS(msg, 0)
	if i >= len(msg) || msg[i] != '{' {
		return out
	}
	i = skipWS(msg, i+1)
	for i < len(msg) && msg[i] == '"' {
		end, err := skipString(msg, i)
		if err != nil {
			return [3][]byte{}
		}
		key := msg[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			var s string
			if json.Unmarshal(msg[i:end], &s) != nil {
				return [3][]byte{}
			}
			key = []byte(s)
		}
		i = skipWS(msg, end)
		if i >= len(msg) || msg[i] != ':' {
			return [3][]byte{}
		}
		i = skipWS(msg, i+1)
		vend, err := skipValue(msg, i)
		if err != nil {
			return [3][]byte{}
		}
		for f, name := range rawNames {
			if bytes.EqualFold(key, name) {
				seen[f]++
				out[f] = msg[i:vend]
			}
		}
		i = skipWS(msg, vend)
		if i < len(msg) && msg[i] == ',' {
			i = skipWS(msg, i+1)
		}
	}
	for f := range out {
		if seen[f] != 1 || len(out[f]) == 0 || out[f][0] != '{' {
			out[f] = nil
		}
	}
	return out
}

// objectLen counts the members of a JSON object's text (-1: malformed).
func objectLen(obj []byte) int {
	i := skipWS(obj, 1)
	n := 0
	for i < len(obj) && obj[i] == '"' {
		end, err := skipString(obj, i)
		if err != nil {
			return -1
		}
		i = skipWS(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return -1
		}
		vend, err := skipValue(obj, skipWS(obj, i+1))
		if err != nil {
			return -1
		}
		n++
		i = skipWS(obj, vend)
		if i < len(obj) && obj[i] == ',' {
			i = skipWS(obj, i+1)
		}
	}
	return n
}

// escapedASCII reports whether the text has a \u00XX escape, which could
// spell a key like "path" that SQL looking for the plain text would miss.
func escapedASCII(b []byte) bool { return bytes.Contains(b, []byte(`\u00`)) }

// keep returns raw when it is exactly the map m: one member per key (no
// repeated key, which the map would have collapsed) and, for event
// properties, no escaped ASCII.
func keep(raw []byte, m map[string]any, props bool) []byte {
	if raw == nil || objectLen(raw) != len(m) || props && escapedASCII(raw) {
		return nil
	}
	return raw
}

// setRaw records the raw fields of w's message text on m. mergedContext
// tells that a batch's context added keys to the message's.
func (m *Message) setRaw(msg []byte, mergedContext bool) {
	f := rawObjects(msg)
	m.raw.properties = keep(f[rawProperties], m.Properties, true)
	if !mergedContext {
		m.raw.context = keep(f[rawContext], m.Context, false)
	}
	if ct, ok := m.Context["traits"].(map[string]any); !ok || len(ct) == 0 {
		m.raw.traits = keep(f[rawTraits], m.Traits, true)
	}
}
