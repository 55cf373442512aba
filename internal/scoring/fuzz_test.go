package scoring

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

func FuzzCompile(f *testing.F) {
	f.Add(DefaultModel)
	for _, s := range []string{
		"",
		"name: x\nstages:\n  mql: score >= 50\n",
		"name: x\ndecay: {half_life: 45d}\nstages: {mql: \"score > 1\"}\n",
		"name: x\nfit:\n  - id: a\n    when: lead.traits.x == 1\n    points: 1\nstages:\n  mql: |\n    score >= 50 &&\n    lead.bant.need\n",
		"name: x\nbehavior:\n  - id: a\n    when: event.properties['a'].b == true\n    points: -3\n    max: 0\nstages:\n  mql: score >= 50\nexpiry:\n  - id: e\n    stage: mql\n    after: 2w\n    when: score < 1\n    to: recycled\n",
		"name: &a x\nfit: *a\n",
		"name: [[[[[[[[]]]]]]]]\n",
		"name: x\nstages:\n  mql: " + strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200) + "\n",
		"name: x\nstages:\n  mql: '[1,2,3].map(x, [1,2,3].map(y, x*y)).size() > 0'\n",
		"? a\n: b\n",
		"name: \"\\u00e9\"\nstages: {mql: \"true\"}\n--- \n...\n",
		"- - - - - - - - x\n",
		"name: x\ndecay:\n  - older_than: 1m\n    factor: 1\n  - older_than: 2m\n    factor: 0\nstages:\n  mql: score >= 50\n",
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := Compile("fuzz.yaml", src)
		if err != nil {
			if leadflow.ErrorCode(err) != leadflow.EINVALID {
				t.Fatalf("error code %q: %v", leadflow.ErrorCode(err), err)
			}
			return
		}
		// A model that compiles must evaluate without panicking.
		lead := &leadflow.Lead{Industry: "it", Traits: map[string]any{"x": 1.0}}
		ev := &leadflow.Event{ID: 1, Type: "page", Name: "n", Properties: map[string]any{"path": "/pricing", "a": map[string]any{"b": true}}, Timestamp: now}
		hits := m.NewMatcher().Match(lead, ev, nil)
		r := m.Score(m.Fit(lead, now), hits, now)
		m.Stages(lead, r, ev, now)
		m.Expiry(lead, r, now.Add(-1000*time.Hour), now)
		_ = r.Explanation.Text("ja")
		Diff(m, nil)
	})
}
