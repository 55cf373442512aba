package segment_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
)

func TestDecodeTimestamp(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		fields string // JSON members added to a track call
		want   time.Time
		bad    string // location of the error, when one is expected
	}{
		{name: "none: receivedAt", want: receivedAt},
		{name: "timestamp only", fields: `"timestamp":"2024-04-30T08:00:00Z"`, want: at("2024-04-30T08:00:00Z")},
		{name: "offset", fields: `"timestamp":"2024-05-01T18:00:00+09:00"`, want: at("2024-05-01T09:00:00Z")},
		{name: "offset without colon", fields: `"timestamp":"2024-05-01T18:00:00.5+0900"`, want: at("2024-05-01T09:00:00.5Z")},
		{name: "hour offset", fields: `"timestamp":"2024-05-01T18:00:00+09"`, want: at("2024-05-01T09:00:00Z")},
		{name: "milliseconds", fields: `"timestamp":"2024-05-01T09:00:00.123Z"`, want: at("2024-05-01T09:00:00.123Z")},
		{name: "nanoseconds", fields: `"timestamp":"2024-05-01T09:00:00.123456789Z"`, want: at("2024-05-01T09:00:00.123456789Z")},
		{name: "no zone is UTC", fields: `"timestamp":"2024-05-01T09:00:00"`, want: at("2024-05-01T09:00:00Z")},
		{name: "space separator", fields: `"timestamp":"2024-05-01 09:00:00Z"`, want: at("2024-05-01T09:00:00Z")},
		{name: "date only", fields: `"timestamp":"2024-05-01"`, want: at("2024-05-01T00:00:00Z")},
		{
			name:   "sentAt corrects a fast clock",
			fields: `"timestamp":"2024-05-01T10:04:00Z","sentAt":"2024-05-01T10:05:00Z"`,
			want:   receivedAt.Add(-time.Minute),
		},
		{
			name:   "an explicit timestamp next to originalTimestamp is kept (RudderStack)",
			fields: `"originalTimestamp":"2024-05-01T09:00:00+09:00","timestamp":"2020-01-01T00:00:00Z","sentAt":"2024-05-01T09:00:02+09:00"`,
			want:   time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		},
		{
			name:   "sentAt corrects a slow clock from originalTimestamp",
			fields: `"originalTimestamp":"2024-05-01T09:00:00+09:00","sentAt":"2024-05-01T09:00:02+09:00"`,
			want:   receivedAt.Add(-2 * time.Second),
		},
		{
			name:   "historical import keeps its age",
			fields: `"timestamp":"2023-05-01T10:00:00Z","sentAt":"2024-05-01T10:00:00Z"`,
			want:   receivedAt.AddDate(-1, 0, 0),
		},
		{name: "sentAt without a time", fields: `"sentAt":"2024-05-01T10:05:00Z"`, want: receivedAt},
		{name: "bad timestamp", fields: `"timestamp":"01/05/2024"`, bad: "/timestamp"},
		{name: "bad originalTimestamp", fields: `"originalTimestamp":"x"`, bad: "/originalTimestamp"},
		{name: "bad sentAt", fields: `"timestamp":"2024-05-01T09:00:00Z","sentAt":"x"`, bad: "/sentAt"},
		{name: "extreme values do not overflow", fields: `"timestamp":"0002-01-01T00:00:00Z","sentAt":"9999-12-31T23:59:59Z"`, want: receivedAt.Add(time.Duration(-1 << 63))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `{"userId":"u","event":"e"`
			if tt.fields != "" {
				body += "," + tt.fields
			}
			m, _, err := segment.Decode("track", []byte(body+"}"), receivedAt)
			if tt.bad != "" {
				var e *leadflow.Error
				if !errors.As(err, &e) || e.Where != tt.bad {
					t.Fatalf("err %v, want one at %s", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !m.Timestamp.Equal(tt.want) || m.Timestamp.Location() != time.UTC {
				t.Errorf("timestamp %v, want %v", m.Timestamp, tt.want)
			}
			if !m.ReceivedAt.Equal(receivedAt) {
				t.Errorf("receivedAt %v", m.ReceivedAt)
			}
			// The client's own time (the retry key) is what it wrote:
			// originalTimestamp, else timestamp; never sentAt.
			var client time.Time
			for _, f := range []string{"originalTimestamp", "timestamp"} {
				if i := strings.Index(tt.fields, `"`+f+`":"`); i >= 0 {
					v := tt.fields[i+len(f)+4:]
					v = v[:strings.IndexByte(v, '"')]
					for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05Z07", "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02"} {
						if c, err := time.Parse(layout, v); err == nil {
							client = c
							break
						}
					}
					break
				}
			}
			if !m.ClientTime.Equal(client) || m.ToEvent().ClientTime != m.ClientTime {
				t.Errorf("client time %v, want %v", m.ClientTime, client)
			}
		})
	}
}

func TestDecodeErrorsAreLocated(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"batch":[{"type":"track","userId":"u","event":"e","properties":{"n":1e400}}]}`, `{"batch":[{"type":"track","userId":"u","event":["e"]}]}`} {
		_, _, err := segment.DecodeBatch([]byte(body), receivedAt)
		var e *leadflow.Error
		if !errors.As(err, &e) || e.Code != leadflow.EINVALID || !strings.HasPrefix(e.Where, "/batch/0/") {
			t.Errorf("%s: %#v", body, err)
		}
	}
}

func TestDecodeUnknownCall(t *testing.T) {
	t.Parallel()
	if _, _, err := segment.Decode("launch", []byte(`{}`), receivedAt); err == nil {
		t.Fatal("no error")
	}
}

func TestDecodeBatchWriteKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, want string
		fail       bool
	}{
		{body: `{"writeKey":"top","batch":[{"type":"page","userId":"u","writeKey":"inner"}]}`, want: "top"},
		{body: `{"batch":[{"type":"page","userId":"u","writeKey":"inner"},{"type":"page","userId":"u"}]}`, want: "inner"},
		{body: `{"batch":[{"type":"page","userId":"u","writeKey":"a"},{"type":"page","userId":"u","writeKey":"b"}]}`, fail: true},
	}
	for _, tt := range tests {
		_, key, err := segment.DecodeBatch([]byte(tt.body), receivedAt)
		if (err != nil) != tt.fail || key != tt.want {
			t.Errorf("%s: key %q err %v", tt.body, key, err)
		}
	}
}

func TestToEvent(t *testing.T) {
	t.Parallel()
	ts := receivedAt.Add(-time.Hour)
	base := segment.Message{MessageID: "m1", UserID: "u1", AnonymousID: "a1", Timestamp: ts, ReceivedAt: receivedAt,
		Context: map[string]any{"ip": "203.0.113.9"}}
	with := func(f func(m *segment.Message)) segment.Message { m := base; f(&m); return m }
	tests := []struct {
		name      string
		msg       segment.Message
		wantName  string
		wantProps map[string]any
	}{
		{"track", with(func(m *segment.Message) {
			m.Type, m.Event, m.Properties = leadflow.EventTrack, "Webinar Attended", map[string]any{"id": "w1"}
		}), "Webinar Attended", map[string]any{"id": "w1"}},
		{"page", with(func(m *segment.Message) {
			m.Type, m.Name, m.Properties = leadflow.EventPage, "Pricing", map[string]any{"path": "/pricing"}
		}), "Pricing", map[string]any{"path": "/pricing"}},
		{"page without name", with(func(m *segment.Message) {
			m.Type, m.Properties = leadflow.EventPage, map[string]any{"path": "/pricing"}
		}), "", map[string]any{"path": "/pricing"}},
		{"identify", with(func(m *segment.Message) {
			m.Type, m.Traits = leadflow.EventIdentify, map[string]any{"email": "a@b.jp"}
		}), "", map[string]any{"email": "a@b.jp"}},
		{"group", with(func(m *segment.Message) {
			m.Type, m.GroupID, m.Traits = leadflow.EventGroup, "acme", map[string]any{"name": "Acme"}
		}), "", map[string]any{"name": "Acme", "groupId": "acme"}},
		{"alias", with(func(m *segment.Message) {
			m.Type, m.PreviousID = leadflow.EventAlias, "a0"
		}), "", map[string]any{"previousId": "a0"}},
	}
	for _, tt := range tests {
		e := tt.msg.ToEvent()
		if e.Name != tt.wantName || fmt.Sprint(e.Properties) != fmt.Sprint(tt.wantProps) {
			t.Errorf("%s: name %q properties %v", tt.name, e.Name, e.Properties)
		}
		if e.MessageID != "m1" || e.UserID != "u1" || e.AnonymousID != "a1" || e.Type != tt.msg.Type ||
			!e.Timestamp.Equal(ts) || !e.ReceivedAt.Equal(receivedAt) || e.Context["ip"] != "203.0.113.9" {
			t.Errorf("%s: %+v", tt.name, e)
		}
	}
}

func ExampleDecodeBatch() {
	body := []byte(`{
	  "sentAt": "2024-05-01T10:00:05Z",
	  "batch": [
	    {"type": "identify", "userId": "u-1", "traits": {"email": "taro@example.co.jp"}, "timestamp": "2024-05-01T10:00:00Z", "messageId": "m-1"},
	    {"type": "track", "userId": "u-1", "event": "Document Downloaded", "timestamp": "2024-05-01T10:00:04Z", "messageId": "m-2"}
	  ]}`)
	received := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) // the client's clock is 5 s fast
	msgs, _, err := segment.DecodeBatch(body, received)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range msgs {
		fmt.Println(m.Type, m.MessageID, m.Timestamp.Format(time.TimeOnly))
	}
	// Output:
	// identify m-1 09:59:55
	// track m-2 09:59:59
}

// TestDecodeNUL checks that U+0000, which PostgreSQL cannot store, is
// replaced, while an escaped backslash followed by "u0000" is left alone,
// and that the caller's body is not modified.
func TestDecodeNUL(t *testing.T) {
	t.Parallel()
	body := []byte(`{"userId":"u\u0000","event":"a\u0000b","properties":{"x":"\\u0000","y":"\\\u0000"}}`)
	orig := string(body)
	m, _, err := segment.Decode("track", body, receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	if m.UserID != "u\ufffd" || m.Event != "a\ufffdb" || m.Properties["x"] != `\u0000` || m.Properties["y"] != "\\\ufffd" {
		t.Errorf("%q %q %q", m.UserID, m.Event, m.Properties)
	}
	if string(body) != orig {
		t.Errorf("body modified")
	}
}
