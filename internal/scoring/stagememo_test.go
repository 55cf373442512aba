package scoring

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

// TestMatcherScoreAndStagesAgree checks the bulk rescore's fast paths
// against the reference: Matcher.Score gives Model.Score's totals and next
// change, and the memoized Matcher.Stages gives Model.Stages' outcome, over
// many random leads (BANT, timelines, titles) and histories.
func TestMatcherScoreAndStagesAgree(t *testing.T) {
	t.Parallel()
	models := map[string]*Model{
		"default": MustCompile("default.yaml", DefaultModel),
		"half life, stage rules on lead fields": MustCompile("h.yaml", []byte(`name: h
fit:
  - id: vp
    when: lead.title.contains("VP")
    points: 20
behavior:
  - id: pages
    when: event.type == "page"
    points: 3
    max: 30
  - id: unsub
    when: event.name == "Unsubscribed"
    points: -15
decay: {half_life: 30d}
stages:
  mql: score >= 25 || (fit_score >= 20 && lead.bant.need)
  sal: behavior_score > 20 && lead.title != ""
  sql: score >= 40 && lead.bant.timeline_days >= 0 && lead.bant.timeline_days <= 60
  hql: lead.bant.budget && lead.bant.authority && score >= 45
`)),
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for name, m := range models {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			mt := m.NewMatcher()
			titles := []string{"", "VP Sales", "Engineer", "CTO"}
			names := []string{"", "Demo Requested", "Unsubscribed", "Webinar Attended", "Email Clicked"}
			paths := []string{"/pricing", "/docs", "/blog/x", "/case-studies"}
			for i := range 3000 {
				l := &leadflow.Lead{ID: int64(i + 1), Email: "x@example.com", Title: titles[rng.IntN(len(titles))],
					Employees: rng.IntN(500), Stage: leadflow.StageLead}
				l.BANT = leadflow.BANT{Budget: rng.IntN(2) == 0, Authority: rng.IntN(2) == 0, Need: rng.IntN(2) == 0}
				if rng.IntN(2) == 0 {
					tl := now.Add(time.Duration(rng.IntN(120)-20) * 24 * time.Hour)
					l.BANT.Timeline = &tl
				}
				var hits []Hit
				for k := range rng.IntN(30) {
					ev := &leadflow.Event{ID: int64(i*100 + k + 1), Type: leadflow.EventPage,
						Timestamp: now.Add(-time.Duration(rng.IntN(300*24)) * time.Hour)}
					if rng.IntN(3) == 0 {
						ev.Type, ev.Name = leadflow.EventTrack, names[rng.IntN(len(names))]
					} else {
						ev.Properties = map[string]any{"path": paths[rng.IntN(len(paths))]}
					}
					hits = mt.Match(l, ev, hits)
				}
				fit := mt.Fit(l, now, nil)
				want := m.Score(fit, hits, now)
				got := mt.Score(fit, hits, now)
				if got.Score != want.Score || got.Fit != want.Fit || got.Behavior != want.Behavior || !got.NextChange.Equal(want.NextChange) {
					t.Fatalf("lead %d: Matcher.Score %+v, Model.Score %+v", i, got, want)
				}
				if ws, gs := m.Stages(l, want, nil, now), mt.Stages(l, got, now); !reflect.DeepEqual(ws, gs) {
					t.Fatalf("lead %d (%+v, score %v): Matcher.Stages %v, Model.Stages %v", i, l.BANT, want.Score, gs, ws)
				}
			}
		})
	}
}

func TestLeadFields(t *testing.T) {
	t.Parallel()
	m := MustCompile("m.yaml", []byte("name: m\nfit:\n  - id: a\n    when: lead.traits.plan == 'pro' && lead.employees > 10\n    points: 1\nbehavior:\n  - id: b\n    when: event.type == 'page' && lead.source == 'google'\n    points: 1\nstages:\n  mql: score >= 50\n  hql: lead.bant.budget\n"))
	if f, all := m.LeadFields(); all || !reflect.DeepEqual(f, []string{"bant", "employees", "source", "traits"}) {
		t.Errorf("LeadFields = %v, %v", f, all)
	}
}
