package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/segment"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
	"github.com/leadflow/leadflow/internal/traffic"
)

// dbState is what ingestion wrote, by message id and lead id, for
// comparing two databases fed the same messages.
type dbState struct {
	Leads, Events, Hits, Identities, Transitions []string
}

func snapshot(t *testing.T, db *store.DB) dbState {
	t.Helper()
	ctx := context.Background()
	read := func(q string) []string {
		rows, err := db.Read.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprint(v)
			}
			out = append(out, strings.Join(parts, "|"))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return dbState{
		Leads: read(`SELECT id, coalesce(email, ''), name, company, title, employees, first_touch, last_touch, traits, stage,
			stage_at, score, fit_score, behavior_score, next_decay_at, model_version, owner, created_at FROM leads ORDER BY id`),
		Events: read(`SELECT message_id, coalesce(lead_id, 0), anonymous_id, user_id, type, name, ts FROM events ORDER BY message_id`),
		Hits: read(`SELECT h.lead_id, e.message_id, h.rule, h.at, h.points, h.label FROM score_hits h
			JOIN events e ON e.id = h.event_id ORDER BY h.lead_id, e.message_id, h.rule`),
		Identities:  read(`SELECT kind, value, lead_id FROM lead_identities ORDER BY kind, value`),
		Transitions: read(`SELECT lead_id, from_stage, to_stage, at, cause, score FROM transitions ORDER BY lead_id, id`),
	}
}

// decodeBatch decodes a batch body as the HTTP handler does.
func decodeBatch(t *testing.T, body []byte, at time.Time) []segment.Message {
	t.Helper()
	msgs, _, err := segment.DecodeBatch(body, at)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// sameAsOneByOne ingests body as one batch into one database and message
// by message into another, and requires the same outcome: a batch is
// handled set-wise, but must mean what its messages mean in order.
func sameAsOneByOne(t *testing.T, backend string, bodies ...[]byte) (*bundle, dbState) {
	t.Helper()
	batched, single := setup(t, storetest.Open(t, backend)), setup(t, storetest.Open(t, backend))
	at := batched.now
	for _, body := range bodies {
		batched.ingest(t, decodeBatch(t, body, at)...)
		for _, m := range decodeBatch(t, body, at) {
			single.ingest(t, m)
		}
	}
	got, want := snapshot(t, batched.db), snapshot(t, single.db)
	v, w := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range v.NumField() {
		g, x := v.Field(i).Interface().([]string), w.Field(i).Interface().([]string)
		if !reflect.DeepEqual(g, x) {
			name := v.Type().Field(i).Name
			for j := range max(len(g), len(x)) {
				var a, b string
				if j < len(g) {
					a = g[j]
				}
				if j < len(x) {
					b = x[j]
				}
				if a != b {
					t.Fatalf("%s differ at row %d (of %d batched, %d one by one):\nbatched:     %s\none by one:  %s", name, j, len(g), len(x), a, b)
				}
			}
		}
	}
	return batched, got
}

// batchBody builds a /v1/batch body of the messages (JSON objects).
func batchBody(msgs ...string) []byte {
	return []byte(`{"batch":[` + strings.Join(msgs, ",") + `]}`)
}

// TestBatchMatchesOneByOne: realistic traffic (new and returning
// visitors, anonymous visits, identifies, tracks) ingested as batches
// gives what the same messages give one request each.
func TestBatchMatchesOneByOne(t *testing.T) {
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			if backend != "sqlite" && !storetest.Strict() && testing.Short() {
				t.Skip()
			}
			tr := traffic.New(3)
			_, st := sameAsOneByOne(t, backend, tr.Batch(nil, 150), tr.Batch(nil, 150))
			if len(st.Events) != 300 || len(st.Leads) == 0 || len(st.Hits) == 0 {
				t.Fatalf("%d events, %d leads, %d hits", len(st.Events), len(st.Leads), len(st.Hits))
			}
		})
	}
}

// TestBatchEdgeCases covers what set-wise handling must get right inside
// one batch.
func TestBatchEdgeCases(t *testing.T) {
	page := func(id, anon, user, path string, extra string) string {
		u := ""
		if user != "" {
			u = fmt.Sprintf(`"userId":%q,`, user)
		}
		return fmt.Sprintf(`{"type":"page","messageId":%q,"anonymousId":%q,%s"properties":{"path":%q},`+
			`"context":{"campaign":{"source":"google","name":"c-%s"}}%s,"timestamp":"2026-05-31T10:00:00Z"}`, id, anon, u, path, id, extra)
	}
	track := func(id, user, event, ts string) string {
		return fmt.Sprintf(`{"type":"track","messageId":%q,"userId":%q,"event":%q,"timestamp":%q}`, id, user, event, ts)
	}
	ident := func(id, anon, user, email string) string {
		a := ""
		if anon != "" {
			a = fmt.Sprintf(`"anonymousId":%q,`, anon)
		}
		return fmt.Sprintf(`{"type":"identify","messageId":%q,%s"userId":%q,"traits":{"email":%q,"title":"部長"},"timestamp":"2026-05-31T11:00:00Z"}`,
			id, a, user, email)
	}
	for _, backend := range storetest.Backends() {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			t.Run("anonymous visits then identify in the same batch", func(t *testing.T) {
				b, st := sameAsOneByOne(t, backend, batchBody(
					page("p1", "anon-1", "", "/pricing", ""),
					page("p2", "anon-1", "", "/product/scoring", ""),
					page("p3", "anon-2", "", "/pricing", ""), // never identified
					ident("i1", "anon-1", "u1", "visitor@example.jp"),
					page("p4", "anon-1", "", "/pricing", ""), // known by now
				))
				l := b.lead(t, "visitor@example.jp")
				events, _, err := b.db.Timeline(context.Background(), l.ID, "", 50)
				if err != nil || len(events) != 4 {
					t.Fatalf("lead events: %v %d, want 4 (p1, p2, i1, p4)", err, len(events))
				}
				if l.FirstTouch.Campaign != "c-p1" || l.BehaviorScore == 0 {
					t.Fatalf("first touch %+v behavior %v: the visits before identify were not attached", l.FirstTouch, l.BehaviorScore)
				}
				if !strings.Contains(strings.Join(st.Events, "\n"), "p3|0|anon-2") {
					t.Fatalf("anonymous visit p3 not kept without a lead: %v", st.Events)
				}
			})
			t.Run("duplicate message id inside one batch", func(t *testing.T) {
				b, st := sameAsOneByOne(t, backend, batchBody(
					ident("d1", "", "u1", "dup@example.jp"),
					track("d2", "u1", "Document Downloaded", "2026-05-31T12:00:00Z"),
					track("d2", "u1", "Document Downloaded", "2026-05-31T12:00:00Z"),
					track("d2", "u1", "Webinar Attended", "2026-05-31T12:30:00Z"), // same id, other content: still a repeat
				), batchBody(track("d2", "u1", "Document Downloaded", "2026-05-31T12:00:00Z")))
				if len(st.Events) != 2 {
					t.Fatalf("events %v, want d1 and d2 once", st.Events)
				}
				if l := b.lead(t, "dup@example.jp"); l.BehaviorScore != 15 {
					t.Fatalf("behavior %v, want 15 (one download)", l.BehaviorScore)
				}
			})
			t.Run("new and known visitors mixed", func(t *testing.T) {
				first := batchBody(ident("k1", "anon-k", "known", "known@example.jp"),
					track("k2", "known", "Document Downloaded", "2026-05-31T12:00:00Z"))
				b, _ := sameAsOneByOne(t, backend, first, batchBody(
					page("k3", "anon-k", "known", "/pricing", ""),
					page("n1", "anon-new", "", "/pricing", ""),
					ident("n2", "anon-new", "newbie", "new@example.jp"),
					track("k4", "known", "Contact Sales", "2026-05-31T13:00:00Z"),
					track("n3", "newbie", "Document Downloaded", "2026-05-31T13:00:00Z"),
				))
				if l := b.lead(t, "known@example.jp"); l.Stage != leadflow.StageSQL {
					t.Fatalf("known lead stage %s, want sql", l.Stage)
				}
				if l := b.lead(t, "new@example.jp"); l.BehaviorScore != 25 {
					t.Fatalf("new lead behavior %v, want 10 + 15", l.BehaviorScore)
				}
			})
			t.Run("merge inside a batch", func(t *testing.T) {
				b, st := sameAsOneByOne(t, backend, batchBody(
					ident("m1", "", "crm-1", "person@example.jp"),
					track("m2", "crm-1", "Document Downloaded", "2026-05-31T12:00:00Z"),
					page("m3", "anon-m", "", "/pricing", ""),
					track("m4", "web-1", "Webinar Attended", "2026-05-31T12:10:00Z"), // a second lead
					page("m5", "anon-m", "web-1", "/pricing", ""),                    // anon-m joins it
					ident("m6", "", "web-1", "person@example.jp"),                    // the same person: merge
					track("m7", "web-1", "Document Downloaded", "2026-05-31T12:20:00Z"),
					page("m8", "anon-m", "", "/product/scoring", ""),
				))
				if n, _ := b.db.CountLeads(context.Background()); n != 1 {
					t.Fatalf("%d leads, want 1 after the merge", n)
				}
				l := b.lead(t, "person@example.jp")
				for _, e := range st.Events {
					if strings.Split(e, "|")[1] != fmt.Sprint(l.ID) {
						t.Fatalf("event not on the merged lead %d: %s", l.ID, e)
					}
				}
				if len(l.ExternalIDs) != 2 || len(l.AnonymousIDs) != 1 {
					t.Fatalf("identities %v %v", l.ExternalIDs, l.AnonymousIDs)
				}
			})
			t.Run("alias of an anonymous id seen earlier in the batch", func(t *testing.T) {
				b, _ := sameAsOneByOne(t, backend, batchBody(
					ident("a1", "", "al-1", "alias@example.jp"),
					page("a2", "anon-a", "", "/pricing", ""),
					`{"type":"alias","messageId":"a3","userId":"al-1","previousId":"anon-a"}`,
				))
				if l := b.lead(t, "alias@example.jp"); l.BehaviorScore != 10 {
					t.Fatalf("behavior %v, want the aliased visitor's pricing view", l.BehaviorScore)
				}
			})
			t.Run("properties nested deeper than SQLite's JSON limit", func(t *testing.T) {
				deep := strings.Repeat(`{"a":`, 1500) + `1` + strings.Repeat(`}`, 1500)
				b, _ := sameAsOneByOne(t, backend, batchBody(
					ident("n1", "", "deep", "deep@example.jp"),
					`{"type":"track","messageId":"n2","userId":"deep","event":"Document Downloaded","properties":{"x":`+deep+`}}`,
				))
				var props string
				if err := b.db.Read.QueryRowContext(context.Background(),
					"SELECT properties FROM events WHERE message_id = 'n2'").Scan(&props); err != nil {
					t.Fatal(err)
				}
				var got, want any
				if err := json.Unmarshal([]byte(props), &got); err != nil {
					t.Fatalf("stored properties: %v", err)
				}
				_ = json.Unmarshal([]byte(`{"x":`+deep+`}`), &want)
				if !reflect.DeepEqual(got, want) {
					t.Fatal("stored properties differ from the sent ones")
				}
			})
			t.Run("batch context merged into messages", func(t *testing.T) {
				body := []byte(`{"batch":[` + track("c1", "ctx-1", "Document Downloaded", "2026-05-31T12:00:00Z") +
					`],"context":{"library":{"name":"analytics-node"}}}`)
				b, _ := sameAsOneByOne(t, backend, body)
				var ctxText string
				if err := b.db.Read.QueryRowContext(context.Background(),
					"SELECT context FROM events WHERE message_id = 'c1'").Scan(&ctxText); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(ctxText, "analytics-node") {
					t.Fatalf("stored context %s lacks the batch's context", ctxText)
				}
			})
		})
	}
}
