package scoring

import (
	"fmt"
	"strings"
)

// Change kinds.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// Change is one rule-level difference between two models, for the review
// screen before a new model version goes live.
type Change struct {
	Kind    string `json:"kind"`    // added, removed or changed
	Section string `json:"section"` // model, fit, behavior, decay, stages or expiry
	Rule    string `json:"rule"`    // rule id, stage name, "decay", "name" or "description"
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
}

// String renders the change as one line.
func (c Change) String() string {
	switch c.Kind {
	case ChangeAdded:
		return fmt.Sprintf("+ %s/%s: %s", c.Section, c.Rule, c.New)
	case ChangeRemoved:
		return fmt.Sprintf("- %s/%s: %s", c.Section, c.Rule, c.Old)
	}
	return fmt.Sprintf("~ %s/%s: %s -> %s", c.Section, c.Rule, c.Old, c.New)
}

// Diff lists what changed from a to b: rules added, removed or changed in
// every section (matched by id; stage rules by stage), the decay, and the
// model's name and description. Either model may be nil (an empty model).
// Changes come in section order, then in the order of b (removals last).
func Diff(a, b *Model) []Change {
	var out []Change
	ra, rb := rulesBySection(a), rulesBySection(b)
	for _, sec := range []string{"model", "fit", "behavior", "decay", "stages", "expiry"} {
		old := map[string]string{}
		for _, kv := range ra[sec] {
			old[kv[0]] = kv[1]
		}
		seen := map[string]bool{}
		for _, kv := range rb[sec] {
			id, text := kv[0], kv[1]
			seen[id] = true
			prev, had := old[id]
			switch {
			case !had:
				out = append(out, Change{Kind: ChangeAdded, Section: sec, Rule: id, New: text})
			case prev != text:
				out = append(out, Change{Kind: ChangeChanged, Section: sec, Rule: id, Old: prev, New: text})
			}
		}
		for _, kv := range ra[sec] {
			if !seen[kv[0]] {
				out = append(out, Change{Kind: ChangeRemoved, Section: sec, Rule: kv[0], Old: kv[1]})
			}
		}
	}
	return out
}

// rulesBySection renders each rule as comparable text: section -> [id, text].
func rulesBySection(m *Model) map[string][][2]string {
	out := map[string][][2]string{}
	if m == nil {
		return out
	}
	add := func(sec, id, text string) { out[sec] = append(out[sec], [2]string{id, text}) }
	add("model", "name", m.Name)
	if m.Description != "" {
		add("model", "description", strings.TrimSpace(m.Description))
	}
	for _, r := range m.Rules() {
		var parts []string
		switch r.Section {
		case "fit":
			parts = []string{"when: " + r.When, "points: " + fmtNum(r.Points)}
		case "behavior":
			parts = []string{"when: " + r.When, "points: " + fmtNum(r.Points)}
			if r.Max != nil {
				parts = append(parts, "max: "+fmtNum(*r.Max))
			}
		case "stages":
			parts = []string{r.When}
		case "expiry":
			parts = []string{"stage: " + r.Stage, "after: " + r.After, "when: " + r.When, "to: " + r.To}
			if r.Reason != "" {
				parts = append(parts, "reason: "+r.Reason)
			}
		}
		add(r.Section, r.ID, strings.Join(parts, "; "))
	}
	if d := m.decay.String(); d != "none" {
		add("decay", "decay", d)
	}
	return out
}
