package scoring_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/scoring"
)

func ExampleCompile() {
	src := []byte(`name: draft
fit:
  - id: big-company
    when: lead.employes >= 100
    points: 15
stages:
  mql: score >= 50
`)
	_, err := scoring.Compile("draft.yaml", src)
	var e *leadflow.Error
	if errors.As(err, &e) {
		fmt.Println(e.Message)
		for _, d := range e.Details {
			fmt.Println(d.Where, d.Message)
		}
	}
	// Output:
	// model is invalid
	// draft.yaml:4:15 fit rule big-company: undefined field 'employes'
}

func ExampleModel_Score() {
	m := scoring.MustCompile("default.yaml", scoring.DefaultModel)
	now := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	lead := &leadflow.Lead{Industry: "manufacturing", Employees: 250, Stage: leadflow.StageLead}

	mt := m.NewMatcher()
	var hits []scoring.Hit
	for i, path := range []string{"/pricing", "/pricing", "/pricing", "/pricing"} {
		ev := &leadflow.Event{ID: int64(i + 1), Type: leadflow.EventPage,
			Properties: map[string]any{"path": path}, Timestamp: now.Add(-time.Duration(i) * time.Hour)}
		hits = mt.Match(lead, ev, hits)
	}
	old := &leadflow.Event{ID: 9, Type: leadflow.EventTrack, Name: "Document Downloaded",
		Timestamp: now.AddDate(0, -4, 0)}
	hits = mt.Match(lead, old, hits)

	r := m.Score(m.Fit(lead, now), hits, now)
	r.Explanation.NextStage = m.NextStage(lead.Stage, r.Score)
	fmt.Print(r.Explanation.Text("en"))
	fmt.Println(m.Stages(lead, r, nil, now))
	// Output:
	// Score 62.5 (fit 25 + behavior 37.5) as of 2025-04-01 09:00 UTC
	//
	// Fit 25
	//       +10  target-industry  (lead.industry in ["manufacturing", "it", "finance"])
	//       +15  company-100plus  (lead.employees >= 100)
	//
	// Behavior 37.5
	//       +30  pricing-page  (4 events, 40, capped at 30)
	//            2025-04-01  /pricing  10 × 1 = 10
	//            2025-04-01  /pricing  10 × 1 = 10
	//            2025-04-01  /pricing  10 × 1 = 10
	//            2025-04-01  /pricing  10 × 1 = 10
	//      +7.5  whitepaper  (1 events)
	//            2024-12-01  Document Downloaded  15 × 0.5 = 7.5
	//
	// Next stage: sql (70, 7.5 points needed)
	// map[hql:false mql:true sql:false]
}

func ExampleDiff() {
	a := scoring.MustCompile("v1.yaml", []byte("name: v1\nstages:\n  mql: score >= 50\n"))
	b := scoring.MustCompile("v2.yaml", []byte("name: v1\nstages:\n  mql: score >= 60\n  sql: event.name == \"Demo Requested\"\n"))
	for _, c := range scoring.Diff(a, b) {
		fmt.Println(c)
	}
	// Output:
	// ~ stages/mql: score >= 50 -> score >= 60
	// + stages/sql: event.name == "Demo Requested"
}
