package scoring

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/leadcel"
)

var t1 = time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)

// deep returns properties nested n maps deep, with "path" at the bottom.
func deep(n int) map[string]any {
	m := map[string]any{"path": "/pricing"}
	for range n {
		m = map[string]any{"a": m}
	}
	return m
}

func TestMatchOddProperties(t *testing.T) {
	t.Parallel()
	m := MustCompile("odd.yaml", []byte(`name: odd
behavior:
  - id: pricing
    when: event.type == "page" && event.properties.path.startsWith("/pricing")
    points: 10
  - id: not-pricing
    when: event.type == "page" && !event.properties.path.startsWith("/pricing")
    points: 1
  - id: has-path
    when: has(event.properties.path)
    points: 1
  - id: nested
    when: event.properties.a.a.path == "/pricing"
    points: 1
  - id: tagged
    when: '"vip" in event.properties.tags'
    points: 1
  - id: by-size
    when: event.properties.size > 3
    points: 1
stages:
  mql: score >= 50
`))
	tests := []struct {
		name  string
		props map[string]any
		want  []string
	}{
		{"pricing path", map[string]any{"path": "/pricing/plans"}, []string{"pricing", "has-path"}},
		{"other path", map[string]any{"path": "/blog"}, []string{"not-pricing", "has-path"}},
		// A missing key makes the whole condition false, negated or not.
		{"no path", map[string]any{"url": "https://x/pricing"}, nil},
		{"nil properties", nil, nil},
		{"path is a number", map[string]any{"path": 42.0}, []string{"has-path"}},
		{"path is null", map[string]any{"path": nil}, []string{"has-path"}},
		{"path is a map", map[string]any{"path": map[string]any{"x": 1.0}}, []string{"has-path"}},
		{"path is a list", map[string]any{"path": []any{"/pricing"}}, []string{"has-path"}},
		{"nested two deep", deep(2), []string{"nested"}},
		{"nested too shallow", deep(1), nil},
		{"nested through a string", map[string]any{"a": "x"}, nil},
		{"nested very deep", deep(500), nil},
		{"list property", map[string]any{"tags": []any{"a", "vip"}}, []string{"tagged"}},
		{"list property is a string", map[string]any{"tags": "vip"}, nil},
		{"int and float compare", map[string]any{"size": 4}, []string{"by-size"}},
		{"float compare", map[string]any{"size": 3.5}, []string{"by-size"}},
		{"json number", map[string]any{"size": json.Number("7")}, nil},
		{"string size", map[string]any{"size": "9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := m.NewMatcher()
			ev := &leadflow.Event{ID: 1, Type: leadflow.EventPage, Properties: tt.props, Timestamp: t1}
			for range 2 { // cold, then from the memo
				var got []string
				for _, h := range mt.Match(nil, ev, nil) {
					got = append(got, h.Rule)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("matched %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// reference evaluates every behavior rule directly, without a memo.
func reference(m *Model, lead *leadflow.Lead, ev *leadflow.Event) []string {
	var cl leadcel.Lead
	var ce celEvent
	cl.Set(lead, ev.Timestamp)
	ce.set(ev)
	act := &activation{lead: &cl, event: &ce}
	var out []string
	for _, r := range m.behavior {
		if eval(r.prg, act) {
			out = append(out, r.id)
		}
	}
	return out
}

func TestMatchMemoAgreesWithEvaluation(t *testing.T) {
	t.Parallel()
	m := MustCompile("memo.yaml", []byte(`name: memo
behavior:
  - id: pricing
    when: event.type == "page" && event.properties.path.startsWith("/pricing")
    points: 10
  - id: big-company-download
    when: event.name == "Document Downloaded" && lead.employees >= 100
    points: 15
  - id: utm
    when: event.context.campaign.source == "google" && lead.traits.plan != "free"
    points: 2
  - id: near-timeline
    when: event.name == "Webinar Attended" && lead.bant.timeline_days <= 30
    points: 5
  - id: whole-props
    when: event.properties.exists(k, k.startsWith("utm_"))
    points: 1
  - id: recent
    when: event.timestamp > timestamp("2025-03-01T00:00:00Z")
    points: 1
stages:
  mql: score >= 50
`))
	if len(m.groups) != 6 || m.groups[5].memo || !m.groups[0].memo {
		for _, g := range m.groups {
			t.Logf("group memo=%v rules=%d keyers=%d", g.memo, len(g.rules), len(g.keyers))
		}
		t.Fatalf("unexpected grouping")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	soon := t1.Add(10 * 24 * time.Hour)
	leads := []*leadflow.Lead{nil, {Employees: 50}, {Employees: 500, Traits: map[string]any{"plan": "pro"}},
		{Traits: map[string]any{"plan": "free"}, BANT: leadflow.BANT{Timeline: &soon}}}
	names := []string{"", "Document Downloaded", "Webinar Attended", "Other"}
	propsPool := []map[string]any{nil, {"path": "/pricing"}, {"path": "/blog"}, {"path": 1.0}, {"utm_source": "x"}, {"path": "/pricing", "utm_medium": "y"}}
	ctxPool := []map[string]any{nil, {"campaign": map[string]any{"source": "google"}}, {"campaign": map[string]any{"source": "bing"}}, {"campaign": "flat"}}
	mt := m.NewMatcher()
	for i := range 5000 {
		lead := leads[rng.IntN(len(leads))]
		ev := &leadflow.Event{ID: int64(i), Type: []leadflow.EventType{"page", "track"}[rng.IntN(2)],
			Name: names[rng.IntN(len(names))], Properties: propsPool[rng.IntN(len(propsPool))],
			Context: ctxPool[rng.IntN(len(ctxPool))], Timestamp: t1.Add(-time.Duration(rng.IntN(90)) * 24 * time.Hour)}
		var got []string
		for _, h := range mt.Match(lead, ev, nil) {
			got = append(got, h.Rule)
			if h.EventID != ev.ID || !h.At.Equal(ev.Timestamp) {
				t.Fatalf("hit %+v for event %d", h, ev.ID)
			}
		}
		if want := reference(m, lead, ev); !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d (lead %+v, event %+v): matched %v, want %v", i, lead, ev, got, want)
		}
	}
	total := 0
	for _, c := range mt.behavior.maps {
		total += len(c)
	}
	if total == 0 || total > 1000 {
		t.Errorf("memo holds %d entries", total)
	}
}

func TestMatchMemoBounded(t *testing.T) {
	t.Parallel()
	m := MustCompile("default.yaml", DefaultModel)
	mt := m.NewMatcher()
	// Every path three times: a good hit rate, but more keys than fit.
	for i := range maxMemoEntries + 100 {
		ev := &leadflow.Event{Type: "page", Properties: map[string]any{"path": fmt.Sprintf("/p/%d", i)}}
		for range 3 {
			mt.Match(nil, ev, nil)
		}
	}
	for _, c := range mt.behavior.maps {
		if len(c) > maxMemoEntries {
			t.Errorf("memo has %d entries", len(c))
		}
	}
	if hits := mt.Match(nil, &leadflow.Event{Type: "page", Properties: map[string]any{"path": "/pricing"}}, nil); len(hits) != 1 {
		t.Errorf("after overflow: %v", hits)
	}
}

func TestMatchNil(t *testing.T) {
	t.Parallel()
	mt := MustCompile("default.yaml", DefaultModel).NewMatcher()
	if hits := mt.Match(nil, nil, nil); hits != nil {
		t.Errorf("nil event: %v", hits)
	}
	hits := mt.Match(nil, &leadflow.Event{ID: 7, Type: "track", Name: "Document Downloaded", Timestamp: t1}, nil)
	if len(hits) != 1 || hits[0] != (Hit{Rule: "whitepaper", EventID: 7, EventName: "Document Downloaded", At: t1, Points: 15}) {
		t.Errorf("hits %+v", hits)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	m := MustCompile("default.yaml", DefaultModel)
	done := make(chan float64)
	for range 8 {
		go func() {
			mt := m.NewMatcher()
			lead := &leadflow.Lead{Industry: "it"}
			var hits []Hit
			for i := range 200 {
				hits = mt.Match(lead, &leadflow.Event{ID: int64(i), Type: "page", Properties: map[string]any{"path": "/pricing"}, Timestamp: t1}, hits)
			}
			r := m.Score(m.Fit(lead, t1), hits, t1)
			m.Stages(lead, r, nil, t1)
			done <- r.Score
		}()
	}
	for range 8 {
		if s := <-done; s != 40 {
			t.Errorf("score %v", s)
		}
	}
}

func TestMemoPausesOnLowHitRate(t *testing.T) {
	t.Parallel()
	m := MustCompile("default.yaml", DefaultModel)
	mt := m.NewMatcher()
	for i := range memoProbe {
		mt.Match(nil, &leadflow.Event{Type: "page", Properties: map[string]any{"path": fmt.Sprintf("/p/%d", i)}}, nil)
	}
	paused := 0
	for gi := range mt.behavior.groups {
		if mt.behavior.paused[gi] > 0 {
			paused++
			if len(mt.behavior.maps[gi]) != 0 {
				t.Error("paused group kept its memo")
			}
		}
	}
	if paused != 1 {
		t.Errorf("%d groups paused, want 1 (the path group)", paused)
	}
	if hits := mt.Match(nil, &leadflow.Event{Type: "page", Properties: map[string]any{"path": "/pricing"}}, nil); len(hits) != 1 {
		t.Errorf("while paused: %v", hits)
	}
}

func TestMatcherFitAgreesWithModelFit(t *testing.T) {
	t.Parallel()
	m := MustCompile("default.yaml", DefaultModel)
	mt := m.NewMatcher()
	rng := rand.New(rand.NewPCG(7, 8))
	industries := []string{"", "it", "finance", "retail"}
	titles := []string{"", "営業部長", "Engineer", "VP Sales", "chief of staff"}
	var fit []FitHit
	for i := range 3 * memoProbe {
		lead := &leadflow.Lead{Industry: industries[rng.IntN(4)], Title: titles[rng.IntN(5)],
			Employees: rng.IntN(300), Email: fmt.Sprintf("u%d@%s", i, []string{"gmail.com", "example.com"}[rng.IntN(2)])}
		fit = mt.Fit(lead, t1, fit[:0])
		want := m.Fit(lead, t1)
		if len(fit) != len(want) || (len(want) > 0 && !reflect.DeepEqual(fit, want)) {
			t.Fatalf("lead %+v: Matcher.Fit %v, Model.Fit %v", lead, fit, want)
		}
	}
}
