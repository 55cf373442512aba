package scoring_test

import (
	"strings"
	"testing"

	"github.com/leadflow/leadflow/internal/scoring"
)

func TestEventOnly(t *testing.T) {
	def, err := scoring.Compile("default.yaml", scoring.DefaultModel)
	if err != nil {
		t.Fatal(err)
	}
	if !def.EventOnly() {
		t.Error("the default model's behavior rules read the event only")
	}
	for _, when := range []string{`event.name == "Pricing" && lead.industry == "it"`, `has(lead.traits.x)`, `lead != null`} {
		src := strings.Replace(string(scoring.DefaultModel), "behavior:", "behavior:\n  - id: lead-reading\n    when: '"+when+"'\n    points: 5", 1)
		m, err := scoring.Compile("m.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if m.EventOnly() {
			t.Errorf("a behavior rule %q is not event-only", when)
		}
	}
}
