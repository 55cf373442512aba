package segment_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
)

var fuzzSeeds = []string{
	`{"userId":"u","event":"e"}`,
	`{"userId":1,"anonymousId":-2.5e3,"event":"e","properties":{"a":[1,{"b":null}]}}`,
	`{"anonymousId":"a","traits":{"email":"x@y.jp"},"context":{"traits":{"name":"山田"}}}`,
	`{"previousId":"a","userId":"u","timestamp":"2024-05-01T09:00:00+09:00","sentAt":"2024-05-01T09:00:01Z"}`,
	`{"userId":"u","groupId":7,"originalTimestamp":"2024-05-01","messageId":"m"}`,
	`{"userId":"u\u0000\ud800","event":"\u00e9"}`,
	`{"userId":true}`,
	`{"properties":[]}`,
	`{"userId":"u","event":"e","properties":{"a":1,"a":2},"Properties":{"b":1}}`,
	`{"userId":"u","event":"e","PROPERTIES":{"\u0070ath":"/x"},"context":{"page":{"path":"/y"}}}`,
	"{\"userId\":\"\xff\"}",
	`[]`, `null`, ``, `{`, `{"userId":"u"} x`,
}

// FuzzDecode checks that no input panics Decode and that what it accepts is
// a usable message.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		for _, typ := range []string{"identify", "track", "page", "screen", "group", "alias"} {
			f.Add(typ, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		m, _, err := segment.Decode(typ, body, receivedAt)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		checkFuzzMessage(t, m)
	})
}

// FuzzDecodeBatch checks that no input panics DecodeBatch and that what it
// accepts is usable messages.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(`{"batch":[` + strings.Replace(s, "{", `{"type":"track",`, 1) + `]}`))
	}
	f.Add([]byte(`{"batch":[]}`))
	f.Add([]byte(`{"batch":null}`))
	f.Add([]byte(`{"writeKey":"k","sentAt":"2024-05-01T10:00:00Z","context":{"ip":"1.2.3.4","x":[{}]},"integrations":{"All":true},"batch":[{"type":"identify","userId":"u"},{"type":"alias","previousId":"p","userId":"u","writeKey":"k2"}]}`))
	f.Add([]byte(`{"batch":[{"type":"SCREEN","anonymousId":"a","name":"Home","context":{"ip":null}}],"context":{"ip":"x"}}`))
	f.Add([]byte(`{"batch":[1,"x",[],null]}`))
	f.Add([]byte(`{"\q":1,"batch":[]}`))
	f.Add([]byte(` { "x" : [ {"]" : "}"} ] , "batch" : [ ] } `))
	f.Add([]byte(`{"batch":[{"type":"page","anonymousId":"a"}] ,"batch":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, _, err := segment.DecodeBatch(body, receivedAt)
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, m := range msgs {
			checkFuzzMessage(t, m)
		}
	})
}

func checkFuzzError(t *testing.T, err error) {
	t.Helper()
	var e *leadflow.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not a *leadflow.Error", err, err)
	}
	switch e.Code {
	case leadflow.EINVALID, leadflow.ETOOLARGE, leadflow.ENOTFOUND:
	default:
		t.Fatalf("bad input answered with code %s: %v", e.Code, err)
	}
}

func checkFuzzMessage(t *testing.T, m segment.Message) {
	t.Helper()
	if !m.Type.Valid() || m.MessageID == "" {
		t.Fatalf("accepted message without type or id: %+v", m)
	}
	if m.UserID == "" && m.AnonymousID == "" {
		t.Fatalf("accepted message without identity: %+v", m)
	}
	if m.Timestamp.IsZero() || m.ReceivedAt.IsZero() {
		t.Fatalf("accepted message without times: %+v", m)
	}
	if strings.ContainsRune(m.UserID+m.AnonymousID+m.MessageID+m.Event+m.Name, 0) {
		t.Fatalf("accepted U+0000: %+v", m)
	}
	checkEventJSON(t, &m)
	_ = segment.AttributionOf(m)
	_, _ = segment.TraitsPatch(m.Traits)
	_ = segment.GroupPatch(m.Traits)
}
