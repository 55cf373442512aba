package segment_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
)

// checkEventJSON requires the JSON text EventJSON offers, when it offers
// one, to be exactly the event's maps.
func checkEventJSON(t *testing.T, m *segment.Message) {
	t.Helper()
	e := m.ToEvent()
	props, ctx := m.EventJSON()
	for _, c := range []struct {
		name string
		raw  []byte
		want map[string]any
	}{{"properties", props, e.Properties}, {"context", ctx, e.Context}} {
		if c.raw == nil {
			continue
		}
		var got map[string]any
		if err := json.Unmarshal(c.raw, &got); err != nil {
			t.Fatalf("%s text %s: %v", c.name, c.raw, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Fatalf("%s text %s decodes to %v, the message has %v", c.name, c.raw, got, c.want)
		}
	}
}

func TestEventJSON(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name         string
		body         string
		props, ctx   string // "" : no raw text offered
		typ          leadflow.EventType
		batchContext string
	}{
		{name: "track keeps its bytes", typ: leadflow.EventTrack,
			body:  `{"type":"track","userId":"u","event":"e","properties":{"plan" : "pro","n":1.50},"context":{"ip":"1.2.3.4"}}`,
			props: `{"plan" : "pro","n":1.50}`, ctx: `{"ip":"1.2.3.4"}`},
		{name: "identify traits are its properties", typ: leadflow.EventIdentify,
			body:  `{"type":"identify","userId":"u","traits":{"email":"a@b.jp"},"context":{"ip":"x"}}`,
			props: `{"email":"a@b.jp"}`, ctx: `{"ip":"x"}`},
		{name: "identify with context.traits merged in", typ: leadflow.EventIdentify,
			body: `{"type":"identify","userId":"u","traits":{"email":"a@b.jp"},"context":{"traits":{"name":"n"}}}`,
			ctx:  `{"traits":{"name":"n"}}`},
		{name: "group properties are built", typ: leadflow.EventGroup,
			body: `{"type":"group","userId":"u","groupId":"g","traits":{"name":"Acme"}}`},
		{name: "a key in another case is the field", typ: leadflow.EventTrack,
			body:  `{"type":"track","userId":"u","event":"e","Properties":{"a":1}}`,
			props: `{"a":1}`},
		{name: "a field given twice", typ: leadflow.EventTrack,
			body: `{"type":"track","userId":"u","event":"e","properties":{"a":1},"properties":{"b":1}}`},
		{name: "a repeated key inside", typ: leadflow.EventTrack,
			body: `{"type":"track","userId":"u","event":"e","properties":{"a":1,"a":2}}`},
		{name: "an escaped key", typ: leadflow.EventTrack,
			body: `{"type":"track","userId":"u","event":"e","properties":{"\u0070ath":"/x"}}`},
		{name: "null", typ: leadflow.EventTrack,
			body: `{"type":"track","userId":"u","event":"e","properties":null}`},
		{name: "the batch's context adds keys", typ: leadflow.EventTrack, batchContext: `{"library":{"name":"n"}}`,
			body:  `{"type":"track","userId":"u","event":"e","properties":{},"context":{"ip":"x"}}`,
			props: `{}`},
		{name: "the batch's context adds nothing", typ: leadflow.EventTrack, batchContext: `{"ip":"y"}`,
			body: `{"type":"track","userId":"u","event":"e","context":{"ip":"x"}}`,
			ctx:  `{"ip":"x"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := `{"batch":[` + c.body + `]`
			if c.batchContext != "" {
				body += `,"context":` + c.batchContext
			}
			msgs, _, err := segment.DecodeBatch([]byte(body+`}`), receivedAt)
			if err != nil {
				t.Fatal(err)
			}
			m := &msgs[0]
			if m.Type != c.typ {
				t.Fatalf("type %s", m.Type)
			}
			props, ctx := m.EventJSON()
			if string(props) != c.props || string(ctx) != c.ctx {
				t.Fatalf("EventJSON = %s, %s; want %s, %s", props, ctx, c.props, c.ctx)
			}
			checkEventJSON(t, m)
		})
	}
	// A single call keeps its bytes too.
	m, _, err := segment.Decode("page", []byte(`{"anonymousId":"a","properties":{"path":"/"}}`), receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	if props, _ := m.EventJSON(); string(props) != `{"path":"/"}` {
		t.Fatalf("single call properties %s", props)
	}
}
