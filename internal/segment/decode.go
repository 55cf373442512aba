package segment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadflow/leadflow"
)

// wireMessage is a message as sent. Identifiers are kept raw so that numbers
// can be coerced to strings as Segment does; times are kept as text so that
// the correction can tell which field is wrong.
type wireMessage struct {
	Type              string          `json:"type"`
	MessageID         json.RawMessage `json:"messageId"`
	UserID            json.RawMessage `json:"userId"`
	AnonymousID       json.RawMessage `json:"anonymousId"`
	PreviousID        json.RawMessage `json:"previousId"`
	GroupID           json.RawMessage `json:"groupId"`
	Event             string          `json:"event"`
	Name              string          `json:"name"`
	Category          string          `json:"category"`
	Properties        map[string]any  `json:"properties"`
	Traits            map[string]any  `json:"traits"`
	Context           map[string]any  `json:"context"`
	Integrations      map[string]any  `json:"integrations"`
	Timestamp         string          `json:"timestamp"`
	OriginalTimestamp string          `json:"originalTimestamp"`
	SentAt            string          `json:"sentAt"`
	WriteKey          string          `json:"writeKey"`
}

// wireBatch is the envelope of a batch call. Batch is only decoded to
// report errors; splitBatch finds the messages.
type wireBatch struct {
	Batch        []json.RawMessage `json:"batch"`
	WriteKey     string            `json:"writeKey"`
	SentAt       string            `json:"sentAt"`
	Context      map[string]any    `json:"context"`
	Integrations map[string]any    `json:"integrations"`
}

// callType maps a call name to its event type; screen is recorded as page.
func callType(typ string) (leadflow.EventType, bool) {
	switch strings.ToLower(typ) {
	case "identify":
		return leadflow.EventIdentify, true
	case "track":
		return leadflow.EventTrack, true
	case "page", "screen":
		return leadflow.EventPage, true
	case "group":
		return leadflow.EventGroup, true
	case "alias":
		return leadflow.EventAlias, true
	}
	return "", false
}

// Decode reads the body of a single call of type typ (identify, track, page,
// screen, group or alias) received at receivedAt, and returns the message
// and the writeKey found in the body, if any.
//
// A message without messageId gets "lf-" and 32 hex digits of the SHA-256 of
// its content (type, identities, names, properties, traits, context,
// integrations and the client's own timestamp, but not sentAt, which changes
// when a client retries). A retried identical body therefore gets the same
// id and is stored once; two identical events sent without messageId nor
// timestamp are also taken as one, which is why clients should send either.
//
// Errors are *leadflow.Error: ETOOLARGE over MaxMessageBytes, EINVALID with a
// JSON pointer in Where otherwise.
func Decode(typ string, body []byte, receivedAt time.Time) (m Message, writeKey string, err error) {
	et, ok := callType(typ)
	if !ok {
		return Message{}, "", leadflow.Errorf(leadflow.ENOTFOUND, "unknown call %q", typ)
	}
	if len(body) > MaxMessageBytes {
		return Message{}, "", tooLarge("", "message is %d bytes, over the limit of %d bytes (32 KB)", len(body), MaxMessageBytes)
	}
	if err := checkUTF8(body); err != nil {
		return Message{}, "", err
	}
	body = replaceNUL(body)
	var w wireMessage
	if err := json.Unmarshal(body, &w); err != nil {
		return Message{}, "", jsonError(err, "")
	}
	m, err = w.message(et, "", receivedAt)
	if err == nil {
		m.setRaw(body, false)
	}
	return m, w.WriteKey, err
}

// DecodeBatch reads the body of a batch (or import) call received at
// receivedAt. Each message names its type; the batch's sentAt, context and
// integrations are merged into every message, the message's own fields
// winning. The write key is the batch's, else the one its messages carry.
// Ids and errors are as for Decode; Where points into the batch
// ("/batch/3/userId").
func DecodeBatch(body []byte, receivedAt time.Time) (msgs []Message, writeKey string, err error) {
	if len(body) > MaxBatchBytes {
		return nil, "", tooLarge("", "batch is %d bytes, over the limit of %d bytes (500 KB)", len(body), MaxBatchBytes)
	}
	if err := checkUTF8(body); err != nil {
		return nil, "", err
	}
	body = replaceNUL(body)
	var b wireBatch
	elems, err := splitBatch(body, &b, MaxBatchMessages)
	switch {
	case errors.Is(err, errTooMany):
		return nil, "", tooLarge("/batch", "batch has more than %d messages", MaxBatchMessages)
	case err != nil:
		// Let encoding/json say what is wrong and where.
		if err := json.Unmarshal(body, &wireBatch{}); err != nil {
			return nil, "", jsonError(err, "")
		}
		return nil, "", leadflow.Errorf(leadflow.EINVALID, "malformed JSON")
	case elems == nil:
		return nil, "", leadflow.Invalidf("/batch", "batch is required and must be an array of messages")
	}
	writeKey = b.WriteKey
	msgs = make([]Message, len(elems))
	for i, raw := range elems {
		at := "/batch/" + strconv.Itoa(i)
		if len(raw) > MaxMessageBytes {
			return nil, "", tooLarge(at, "message %d is %d bytes, over the limit of %d bytes (32 KB)", i, len(raw), MaxMessageBytes)
		}
		var w wireMessage
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, "", jsonError(err, at)
		}
		if w.Type == "" {
			return nil, "", leadflow.Invalidf(at+"/type", "type is required")
		}
		et, ok := callType(w.Type)
		if !ok {
			return nil, "", leadflow.Invalidf(at+"/type", "unknown type %q (want identify, track, page, screen, group or alias)", w.Type)
		}
		if w.WriteKey != "" && b.WriteKey == "" {
			if writeKey != "" && writeKey != w.WriteKey {
				return nil, "", leadflow.Invalidf(at+"/writeKey", "messages of one batch carry different write keys")
			}
			writeKey = w.WriteKey
		}
		if w.SentAt == "" {
			w.SentAt = b.SentAt
		}
		n := len(w.Context)
		w.Context = mergeInto(w.Context, b.Context)
		w.Integrations = mergeInto(w.Integrations, b.Integrations)
		m, err := w.message(et, at, receivedAt)
		if err != nil {
			return nil, "", err
		}
		m.setRaw(raw, len(w.Context) != n)
		msgs[i] = m
	}
	return msgs, writeKey, nil
}

// message validates w as a call of type et and builds the Message; at is
// the JSON pointer of w in the request.
func (w *wireMessage) message(et leadflow.EventType, at string, receivedAt time.Time) (Message, error) {
	m := Message{
		Type:         et,
		Event:        w.Event,
		Name:         w.Name,
		Category:     w.Category,
		Properties:   w.Properties,
		Traits:       w.Traits,
		Context:      w.Context,
		Integrations: w.Integrations,
		ReceivedAt:   receivedAt.UTC(),
	}
	var err error
	for _, f := range [...]struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{
		{"messageId", w.MessageID, &m.MessageID},
		{"userId", w.UserID, &m.UserID},
		{"anonymousId", w.AnonymousID, &m.AnonymousID},
		{"previousId", w.PreviousID, &m.PreviousID},
		{"groupId", w.GroupID, &m.GroupID},
	} {
		if *f.dst, err = coerceID(f.raw); err != nil {
			return Message{}, leadflow.Invalidf(at+"/"+f.name, "%s must be a string or a number", f.name)
		}
	}
	switch {
	case et == leadflow.EventAlias:
		if m.PreviousID == "" {
			return Message{}, leadflow.Invalidf(at+"/previousId", "previousId is required for alias")
		}
		if m.UserID == "" {
			return Message{}, leadflow.Invalidf(at+"/userId", "userId is required for alias")
		}
	case m.UserID == "" && m.AnonymousID == "":
		return Message{}, leadflow.Invalidf(at+"/userId", "userId or anonymousId is required")
	case et == leadflow.EventTrack && m.Event == "":
		return Message{}, leadflow.Invalidf(at+"/event", "event is required for track")
	case et == leadflow.EventGroup && m.GroupID == "":
		return Message{}, leadflow.Invalidf(at+"/groupId", "groupId is required for group")
	}
	if et == leadflow.EventIdentify {
		m.Traits = withContextTraits(m.Traits, m.Context)
	}
	ts, bad := stamps{w.Timestamp, w.OriginalTimestamp, w.SentAt}.correct(receivedAt)
	if bad != "" {
		return Message{}, leadflow.Invalidf(at+"/"+bad, "%s is not an ISO 8601 time", bad)
	}
	m.Timestamp = ts
	m.ClientTime = stamps{w.Timestamp, w.OriginalTimestamp, w.SentAt}.client()
	if m.MessageID == "" {
		m.MessageID = contentID(&m, w)
	}
	return m, nil
}

// coerceID reads an identifier: a string, or a number kept as written
// (Segment's libraries coerce numeric ids the same way). null is absent.
func coerceID(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	switch c := raw[0]; {
	case c == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), nil
		}
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw), nil
	case c == 'n': // null
		return "", nil
	}
	return "", errors.New("not a string")
}

// withContextTraits adds context.traits under the identify traits: the
// RudderStack SDKs send identify traits only there.
func withContextTraits(traits, ctx map[string]any) map[string]any {
	ct, ok := ctx["traits"].(map[string]any)
	if !ok || len(ct) == 0 {
		return traits
	}
	out := make(map[string]any, len(ct)+len(traits))
	for k, v := range ct {
		out[k] = v
	}
	for k, v := range traits {
		out[k] = v
	}
	return out
}

// mergeInto adds the keys of the batch-level object src that dst lacks. The
// values are copied so that no two messages share a mutable map.
func mergeInto(dst, src map[string]any) map[string]any {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]any, len(src))
	}
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			dst[k] = copyJSON(v)
		}
	}
	return dst
}

// copyJSON deep-copies a decoded JSON value.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = copyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyJSON(e)
		}
		return out
	}
	return v
}

// contentID derives a messageId from what the message says, leaving out the
// times that change when a client retries (sentAt, receivedAt). Maps are
// marshalled with sorted keys, so equal content gives equal ids.
func contentID(m *Message, w *wireMessage) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	// Encoding a decoded JSON value cannot fail.
	_ = enc.Encode([]any{
		string(m.Type), m.UserID, m.AnonymousID, m.PreviousID, m.GroupID,
		m.Event, m.Name, m.Category, w.Timestamp, w.OriginalTimestamp,
		m.Properties, m.Traits, m.Context, m.Integrations,
	})
	var sum [sha256.Size]byte
	return "lf-" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// checkUTF8 rejects bodies that are not UTF-8; encoding/json would silently
// replace the bad bytes.
func checkUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	off := 0
	for off < len(body) {
		r, n := utf8.DecodeRune(body[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	return leadflow.Errorf(leadflow.EINVALID, "body is not valid UTF-8 (byte %d)", off)
}

// nulEscape is how U+0000 appears in JSON; raw control bytes are invalid.
var nulEscape = []byte(`\u0000`)

// replaceNUL rewrites every \u0000 escape of body as \ufffd (the same
// length), copying body first when it has one. PostgreSQL can store U+0000
// in neither text nor jsonb, and refusing a whole batch over it would lose
// the rest, so it is replaced as encoding/json replaces other bad
// characters.
func replaceNUL(body []byte) []byte {
	i := bytes.Index(body, nulEscape)
	if i < 0 {
		return body
	}
	out := bytes.Clone(body)
	for ; i >= 0; i = next(out, i+len(nulEscape)) {
		n := 0 // backslashes just before: an odd count escapes this one
		for j := i - 1; j >= 0 && out[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			copy(out[i:], `\ufffd`)
		}
	}
	return out
}

// next finds the next \u0000 at or after from.
func next(b []byte, from int) int {
	if j := bytes.Index(b[from:], nulEscape); j >= 0 {
		return from + j
	}
	return -1
}

// jsonError turns an encoding/json error into a located EINVALID error.
func jsonError(err error, at string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		if at != "" { // offsets inside an element would mislead
			return leadflow.Invalidf(at, "malformed JSON: %v", syn)
		}
		return leadflow.Errorf(leadflow.EINVALID, "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		where := at
		if typ.Field != "" {
			where += "/" + strings.ReplaceAll(typ.Field, ".", "/")
		}
		what := "the body"
		switch {
		case typ.Field != "":
			what = typ.Field[strings.LastIndexByte(typ.Field, '.')+1:]
		case at != "":
			what = "a message"
		}
		if where == "" {
			where = "/"
		}
		return leadflow.Invalidf(where, "%s must be %s, not %s", what, kindName(typ.Type), typ.Value)
	}
	return leadflow.Invalidf(at, "malformed JSON: %v", err)
}

// kindName names a Go type the way a JSON client knows it.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a valid value"
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		if t == reflect.TypeFor[json.RawMessage]() {
			return "a valid value"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Float64, reflect.Int, reflect.Int64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	}
	return fmt.Sprintf("a %s", t.Kind())
}

// tooLarge is a size-limit error; the handler answers 400 as Segment does.
func tooLarge(where, format string, args ...any) *leadflow.Error {
	return &leadflow.Error{Code: leadflow.ETOOLARGE, Where: where, Message: fmt.Sprintf(format, args...)}
}
