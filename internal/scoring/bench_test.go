package scoring

import (
	"fmt"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

// benchEvents is a realistic event mix: page views over 200 paths and a
// handful of track events, for 20 events per lead.
func benchEvents(n int) []*leadflow.Event {
	names := []string{"Document Downloaded", "Webinar Attended", "Email Link Clicked", "Email Opened", "Form Submitted"}
	evs := make([]*leadflow.Event, n)
	for i := range evs {
		at := t1.Add(-time.Duration(i%4000) * time.Hour)
		if i%3 == 0 {
			evs[i] = &leadflow.Event{ID: int64(i), Type: "track", Name: names[i%len(names)], Timestamp: at}
		} else {
			path := fmt.Sprintf("/docs/%d", i%200)
			if i%7 == 0 {
				path = "/pricing"
			}
			evs[i] = &leadflow.Event{ID: int64(i), Type: "page", Properties: map[string]any{"path": path, "title": "x"}, Timestamp: at}
		}
	}
	return evs
}

// BenchmarkMatch measures the memo hit path: after warm-up every event's
// field values have been seen.
func BenchmarkMatch(b *testing.B) {
	m := MustCompile("default.yaml", DefaultModel)
	mt := m.NewMatcher()
	evs := benchEvents(4096)
	lead := &leadflow.Lead{Industry: "it", Employees: 300}
	hits := make([]Hit, 0, 16)
	for _, ev := range evs {
		mt.Match(lead, ev, hits[:0])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		hits = mt.Match(lead, evs[i%len(evs)], hits[:0])
	}
}

// BenchmarkMatchCold measures evaluating every rule (a fresh Matcher per event).
func BenchmarkMatchCold(b *testing.B) {
	m := MustCompile("default.yaml", DefaultModel)
	evs := benchEvents(4096)
	lead := &leadflow.Lead{Industry: "it", Employees: 300}
	b.ReportAllocs()
	for i := range b.N {
		m.NewMatcher().Match(lead, evs[i%len(evs)], nil)
	}
}

// BenchmarkScoreLead is the rescore of one lead: fit, 20 events matched
// from the memo, score with explanation, stage rules.
func BenchmarkScoreLead(b *testing.B) {
	m := MustCompile("default.yaml", DefaultModel)
	mt := m.NewMatcher()
	evs := benchEvents(20)
	lead := &leadflow.Lead{Industry: "it", Employees: 300, Title: "Director", Email: "a@example.com"}
	hits := make([]Hit, 0, 32)
	var fit []FitHit
	b.ReportAllocs()
	for range b.N {
		hits = hits[:0]
		for _, ev := range evs {
			hits = mt.Match(lead, ev, hits)
		}
		fit = mt.Fit(lead, t1, fit[:0])
		r := m.Score(fit, hits, t1)
		m.Stages(lead, r, nil, t1)
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := Compile("default.yaml", DefaultModel); err != nil {
			b.Fatal(err)
		}
	}
}
