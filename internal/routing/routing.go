// Package routing decides who owns a lead: routing rules (YAML, with CEL
// conditions over the lead) evaluated in order, each assigning to one user,
// to a team by round robin, or to the least loaded member of a team; a
// fallback queue catches the rest. The package is pure: the people, their
// load and the round-robin position come in through State, so the flow
// package can serve them from the database inside its transaction and a
// test from a map.
//
// See docs/routing.md for the file format.
package routing

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/leadcel"
)

// Strategy is how a team rule picks a member.
type Strategy string

// Strategies.
const (
	// RoundRobin picks the next eligible member after the one picked last,
	// in name order, wrapping around.
	RoundRobin Strategy = "round_robin"
	// LeastLoaded picks the eligible member with the fewest open leads,
	// ties broken by name.
	LeastLoaded Strategy = "least_loaded"
)

// Reserved rule names in Decision.Rule and in the assignment history.
const (
	RuleFallback = "fallback" // no rule matched: the lead went to the fallback queue
	RuleManual   = "manual"   // a person reassigned the lead
)

// DefaultQueue is the fallback queue of the default rules and of a file
// without `fallback`.
const DefaultQueue = "unassigned"

// DefaultSource is the rules document in force when none was set: every
// lead goes to the fallback queue.
var DefaultSource = []byte("# No routing rules yet: every lead waits in the fallback queue.\nrules: []\nfallback: {queue: unassigned}\n")

// Rule is one routing rule. The fields are for display; conditions are
// compiled once by Parse.
type Rule struct {
	ID       string   `json:"id"`
	When     string   `json:"when"`
	User     string   `json:"user,omitempty"`
	Team     string   `json:"team,omitempty"`
	Strategy Strategy `json:"strategy,omitempty"`

	prg cel.Program
}

// Rules is a parsed, validated rules document. It is immutable and safe for
// concurrent use.
type Rules struct {
	// Source is the YAML the rules were parsed from.
	Source []byte
	// Fallback is the queue of leads no rule matched.
	Fallback string
	rules    []*Rule
}

// Rules lists the rules in evaluation order.
func (r *Rules) Rules() []Rule {
	out := make([]Rule, len(r.rules))
	for i, x := range r.rules {
		out[i] = *x
		out[i].prg = nil
	}
	return out
}

// Users lists the users the rules assign to by name, sorted, without
// duplicates (to warn about names that do not exist).
func (r *Rules) Users() []string {
	var out []string
	for _, x := range r.rules {
		if x.User != "" {
			out = append(out, x.User)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Teams lists the teams the rules assign to, sorted, without duplicates.
func (r *Rules) Teams() []string {
	var out []string
	for _, x := range r.rules {
		if x.Team != "" {
			out = append(out, x.Team)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Candidate is a user as routing sees them.
type Candidate struct {
	Name   string
	Team   string
	Active bool
	// MaxOpen is the most open leads (mql, sal, sql, hql) the user may own;
	// 0 means no limit.
	MaxOpen int
	// Open is how many open leads the user owns now.
	Open int
}

// Eligible reports whether a lead may be given to c: active and below
// capacity.
func (c Candidate) Eligible() bool {
	return c.Active && (c.MaxOpen <= 0 || c.Open < c.MaxOpen)
}

// State is the world a decision is made in. Implementations load lazily
// and may remember an error of their own to report after Route returns.
type State interface {
	// Team returns the members of a team (in any order) and the name of the
	// member the team's round robin picked last ("" when none yet). An
	// unknown team has no members.
	Team(name string) (members []Candidate, last string)
	// User returns one user; false when there is no such user.
	User(name string) (Candidate, bool)
	// Now is the time of the decision (for lead.bant.timeline_days).
	Now() time.Time
}

// Decision is where a lead goes. Exactly one of Owner and Queue is set,
// except when nothing matched and the lead keeps its active owner: then
// Owner and Team are the lead's own and Rule is empty.
type Decision struct {
	Owner string `json:"owner,omitempty"`
	Team  string `json:"team,omitempty"`
	Queue string `json:"queue,omitempty"`
	// Rule is the id of the rule that decided, RuleFallback, or "" when the
	// lead keeps its owner.
	Rule string `json:"rule,omitempty"`
	// Strategy is how Owner was picked within Team (team rules only).
	Strategy Strategy `json:"strategy,omitempty"`
}

// Route evaluates the rules in order and returns the first decision that
// finds somebody eligible. A rule that matches but whose user or team has
// nobody eligible (inactive, at capacity, unknown) falls through to the
// next rule.
//
// Routing is sticky within a team: when a team rule matches and the lead's
// current owner is an active member of that team, the owner keeps the lead
// (no round-robin turn is used). When no rule matches, a lead whose owner
// is still active keeps its owner; any other lead goes to the fallback
// queue.
func (r *Rules) Route(lead *leadflow.Lead, st State) Decision {
	view := leadcel.NewLead(lead, st.Now())
	current := ""
	if lead != nil {
		current = lead.Owner
	}
	for _, x := range r.rules {
		if !eval(x.prg, view) {
			continue
		}
		if x.User != "" {
			c, ok := st.User(x.User)
			if ok && (c.Eligible() || (c.Active && c.Name == current)) {
				return Decision{Owner: c.Name, Team: c.Team, Rule: x.ID}
			}
			continue
		}
		members, last := st.Team(x.Team)
		if i := slices.IndexFunc(members, func(c Candidate) bool { return c.Name == current && c.Active }); current != "" && i >= 0 {
			return Decision{Owner: current, Team: x.Team, Rule: x.ID, Strategy: x.Strategy}
		}
		var pick string
		if x.Strategy == LeastLoaded {
			pick = leastLoaded(members)
		} else {
			pick = nextRoundRobin(members, last)
		}
		if pick != "" {
			return Decision{Owner: pick, Team: x.Team, Rule: x.ID, Strategy: x.Strategy}
		}
	}
	if current != "" {
		if c, ok := st.User(current); ok && c.Active {
			return Decision{Owner: current, Team: lead.Team}
		}
	}
	return Decision{Queue: r.Fallback, Rule: RuleFallback}
}

// nextRoundRobin returns the first eligible member whose name sorts after
// last, wrapping around to the first eligible one. Because the position is
// a name, not an index, it survives restarts and members joining, leaving
// or being deactivated.
func nextRoundRobin(members []Candidate, last string) string {
	first, next := "", ""
	for _, c := range members {
		if !c.Eligible() {
			continue
		}
		if first == "" || c.Name < first {
			first = c.Name
		}
		if c.Name > last && (next == "" || c.Name < next) {
			next = c.Name
		}
	}
	if next != "" {
		return next
	}
	return first
}

// leastLoaded returns the eligible member with the fewest open leads, the
// first by name among equals.
func leastLoaded(members []Candidate) string {
	best := -1
	for i, c := range members {
		if !c.Eligible() {
			continue
		}
		if best < 0 || cmp.Or(cmp.Compare(c.Open, members[best].Open), cmp.Compare(c.Name, members[best].Name)) < 0 {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return members[best].Name
}
