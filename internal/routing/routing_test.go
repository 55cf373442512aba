package routing_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/routing"
)

const example = `rules:
  - id: enterprise
    when: lead.employees >= 1000          # CEL over lead
    assign: {user: sato}
  - id: manufacturing
    when: lead.industry == "manufacturing"
    assign: {team: field-mfg, strategy: round_robin}
  - id: everyone-else
    when: "true"
    assign: {team: inside-sales, strategy: least_loaded}
fallback: {queue: unassigned}
`

var now = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)

func mustParse(t *testing.T, src string) *routing.Rules {
	t.Helper()
	r, err := routing.Parse("routing.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, details(err))
	}
	return r
}

func details(err error) string {
	var b strings.Builder
	if e, ok := err.(*leadflow.Error); ok {
		for _, d := range e.Details {
			fmt.Fprintf(&b, "%s: %s\n", d.Where, d.Message)
		}
	}
	return b.String()
}

func user(name, team string, open, max int) routing.Candidate {
	return routing.Candidate{Name: name, Team: team, Active: true, Open: open, MaxOpen: max}
}

func TestParseExample(t *testing.T) {
	t.Parallel()
	r := mustParse(t, example)
	got := r.Rules()
	if len(got) != 3 || r.Fallback != "unassigned" {
		t.Fatalf("rules: %+v fallback %q", got, r.Fallback)
	}
	want := []routing.Rule{
		{ID: "enterprise", When: "lead.employees >= 1000", User: "sato"},
		{ID: "manufacturing", When: `lead.industry == "manufacturing"`, Team: "field-mfg", Strategy: routing.RoundRobin},
		{ID: "everyone-else", When: "true", Team: "inside-sales", Strategy: routing.LeastLoaded},
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("rule %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if fmt.Sprint(r.Users()) != "[sato]" || fmt.Sprint(r.Teams()) != "[field-mfg inside-sales]" {
		t.Errorf("users %v teams %v", r.Users(), r.Teams())
	}
	if d := routing.Default(); len(d.Rules()) != 0 || d.Fallback != routing.DefaultQueue {
		t.Errorf("default: %+v", d)
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, where, msg string
	}{
		{"empty", "", "r.yaml:1:1", "rules are empty"},
		{"syntax", "rules: [\n", "r.yaml:", "YAML syntax error"},
		{"not a mapping", "- a\n", "r.yaml:1:1", "must be a mapping"},
		{"unknown top field", "rule: []\n", "r.yaml:1:1", `unknown field "rule"`},
		{"cel syntax", "rules:\n  - id: a\n    when: lead.employees >=\n    assign: {user: sato}\n", "r.yaml:3:", "rule a: Syntax error"},
		{"unknown lead field", "rules:\n  - id: a\n    when: lead.employes > 10\n    assign: {user: sato}\n", "r.yaml:3:15", "undefined field 'employes'"},
		{"quoted position", "rules:\n  - id: a\n    when: \"lead.foo\"\n    assign: {user: sato}\n", "r.yaml:3:16", "undefined field 'foo'"},
		{"unknown variable", "rules:\n  - id: a\n    when: event.name == 'x'\n    assign: {user: sato}\n", "r.yaml:3:11", "undeclared reference to 'event'"},
		{"not bool", "rules:\n  - id: a\n    when: lead.employees\n    assign: {user: sato}\n", "r.yaml:3:11", "must be true or false"},
		{"missing when", "rules:\n  - id: a\n    assign: {user: sato}\n", "r.yaml:2:5", `missing field "when"`},
		{"missing assign", "rules:\n  - id: a\n    when: \"true\"\n", "r.yaml:2:5", `missing field "assign"`},
		{"user and team", "rules:\n  - id: a\n    when: \"true\"\n    assign: {user: sato, team: x}\n", "r.yaml:4:26", "not both"},
		{"strategy on user", "rules:\n  - id: a\n    when: \"true\"\n    assign: {user: sato, strategy: round_robin}\n", "r.yaml:4:26", "applies to a team"},
		{"bad strategy", "rules:\n  - id: a\n    when: \"true\"\n    assign: {team: t, strategy: random}\n", "r.yaml:4:33", `unknown strategy "random"`},
		{"duplicate id", "rules:\n  - id: a\n    when: \"true\"\n    assign: {user: x}\n  - id: a\n    when: \"true\"\n    assign: {user: y}\n", "r.yaml:5:9", "duplicate rule id"},
		{"reserved id", "rules:\n  - id: manual\n    when: \"true\"\n    assign: {user: x}\n", "r.yaml:2:9", "reserved"},
		{"space in name", "rules:\n  - id: a\n    when: \"true\"\n    assign: {user: \"sa to\"}\n", "r.yaml:4:20", "must not contain spaces"},
		{"empty queue", "fallback: {queue: \"\"}\n", "r.yaml:1:19", "must not be empty"},
		{"rules not list", "rules: {a: 1}\n", "r.yaml:1:8", "must be a list"},
		{"two documents", "rules: []\n---\nrules: []\n", "r.yaml:3:1", "one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routing.Parse("r.yaml", []byte(tc.src))
			var e *leadflow.Error
			if err == nil || !asError(err, &e) || e.Code != leadflow.EINVALID || e.Message != "routing rules are invalid" {
				t.Fatalf("got %v, want an invalid-rules error", err)
			}
			for _, d := range e.Details {
				if strings.HasPrefix(d.Where, tc.where) && strings.Contains(d.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("no detail at %s containing %q:\n%s", tc.where, tc.msg, details(err))
		})
	}
}

func asError(err error, e **leadflow.Error) bool {
	x, ok := err.(*leadflow.Error)
	*e = x
	return ok
}

func TestParseNeverPanics(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"\xff\xfe", strings.Repeat("[", 200), "rules:\n  - !!str\n", "rules: [*a]\n", "fallback: [1]\n", "rules:\n  - id: [1]\n    when: {a: 1}\n    assign: 3\n"} {
		if _, err := routing.Parse("x", []byte(src)); leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Errorf("%q: got %v, want invalid", src, err)
		}
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	rules := mustParse(t, example)
	base := []routing.Candidate{
		user("sato", "field-ent", 3, 5),
		user("ito", "field-mfg", 0, 0), user("abe", "field-mfg", 0, 0), user("ueda", "field-mfg", 0, 0),
		user("kato", "inside-sales", 4, 0), user("mori", "inside-sales", 2, 0), user("endo", "inside-sales", 2, 0),
	}
	big := &leadflow.Lead{Employees: 5000, Industry: "manufacturing"}
	mfg := &leadflow.Lead{Employees: 50, Industry: "manufacturing"}
	other := &leadflow.Lead{Employees: 10, Industry: "retail"}
	for _, tc := range []struct {
		name  string
		lead  *leadflow.Lead
		edit  func(s *routing.Snapshot)
		rules *routing.Rules
		want  routing.Decision
	}{
		{name: "specific user", lead: big,
			want: routing.Decision{Owner: "sato", Team: "field-ent", Rule: "enterprise"}},
		{name: "user at capacity falls through", lead: big, edit: func(s *routing.Snapshot) { s.Users[0].Open = 5 },
			want: routing.Decision{Owner: "abe", Team: "field-mfg", Rule: "manufacturing", Strategy: routing.RoundRobin}},
		{name: "inactive user falls through", lead: big, edit: func(s *routing.Snapshot) { s.Users[0].Active = false },
			want: routing.Decision{Owner: "abe", Team: "field-mfg", Rule: "manufacturing", Strategy: routing.RoundRobin}},
		{name: "unknown user falls through", lead: big, edit: func(s *routing.Snapshot) { s.Users[0].Name = "x" },
			want: routing.Decision{Owner: "abe", Team: "field-mfg", Rule: "manufacturing", Strategy: routing.RoundRobin}},
		{name: "round robin continues after last", lead: mfg, edit: func(s *routing.Snapshot) { s.Last = map[string]string{"field-mfg": "ito"} },
			want: routing.Decision{Owner: "ueda", Team: "field-mfg", Rule: "manufacturing", Strategy: routing.RoundRobin}},
		{name: "round robin wraps", lead: mfg, edit: func(s *routing.Snapshot) { s.Last = map[string]string{"field-mfg": "ueda"} },
			want: routing.Decision{Owner: "abe", Team: "field-mfg", Rule: "manufacturing", Strategy: routing.RoundRobin}},
		{name: "round robin last left the team", lead: mfg, edit: func(s *routing.Snapshot) { s.Last = map[string]string{"field-mfg": "hara"} },
			want: routing.Decision{Owner: "ito", Team: "field-mfg", Rule: "manufacturing", Strategy: routing.RoundRobin}},
		{name: "team with nobody eligible falls through", lead: mfg, edit: func(s *routing.Snapshot) {
			s.Users[1].Active, s.Users[2].MaxOpen, s.Users[2].Open, s.Users[3].Active = false, 1, 1, false
		}, want: routing.Decision{Owner: "endo", Team: "inside-sales", Rule: "everyone-else", Strategy: routing.LeastLoaded}},
		{name: "least loaded, ties by name", lead: other,
			want: routing.Decision{Owner: "endo", Team: "inside-sales", Rule: "everyone-else", Strategy: routing.LeastLoaded}},
		{name: "least loaded skips capacity", lead: other, edit: func(s *routing.Snapshot) { s.Users[6].MaxOpen = 2 },
			want: routing.Decision{Owner: "mori", Team: "inside-sales", Rule: "everyone-else", Strategy: routing.LeastLoaded}},
		{name: "fallback when nobody is eligible", lead: other, edit: func(s *routing.Snapshot) { s.Users = s.Users[:4] },
			want: routing.Decision{Queue: "unassigned", Rule: routing.RuleFallback}},
		{name: "default rules queue everything", lead: big, rules: routing.Default(),
			want: routing.Decision{Queue: "unassigned", Rule: routing.RuleFallback}},
		{name: "owner in the team keeps the lead", lead: &leadflow.Lead{Industry: "retail", Owner: "kato", Team: "inside-sales"},
			want: routing.Decision{Owner: "kato", Team: "inside-sales", Rule: "everyone-else", Strategy: routing.LeastLoaded}},
		{name: "inactive owner is replaced", lead: &leadflow.Lead{Industry: "retail", Owner: "kato"}, edit: func(s *routing.Snapshot) { s.Users[4].Active = false },
			want: routing.Decision{Owner: "endo", Team: "inside-sales", Rule: "everyone-else", Strategy: routing.LeastLoaded}},
		{name: "active owner kept when nothing matches", lead: &leadflow.Lead{Owner: "ito", Team: "field-mfg"}, rules: routing.Default(),
			want: routing.Decision{Owner: "ito", Team: "field-mfg"}},
		{name: "inactive owner goes to the queue when nothing matches", lead: &leadflow.Lead{Owner: "ito"}, rules: routing.Default(),
			edit: func(s *routing.Snapshot) { s.Users[1].Active = false },
			want: routing.Decision{Queue: "unassigned", Rule: routing.RuleFallback}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &routing.Snapshot{At: now, Users: append([]routing.Candidate(nil), base...)}
			if tc.edit != nil {
				tc.edit(s)
			}
			r := rules
			if tc.rules != nil {
				r = tc.rules
			}
			if got := r.Route(tc.lead, s); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestRoundRobinFairness routes many leads in a row, restarting (a fresh
// state from what was stored) and changing members on the way.
func TestRoundRobinFairness(t *testing.T) {
	t.Parallel()
	rules := mustParse(t, "rules:\n  - id: all\n    when: \"true\"\n    assign: {team: t}\n")
	s := &routing.Snapshot{At: now, Users: []routing.Candidate{user("c", "t", 0, 0), user("a", "t", 0, 0), user("b", "t", 0, 0)}}
	var got []string
	route := func(n int) {
		for range n {
			d := rules.Route(&leadflow.Lead{}, s)
			s.Assign(d, "")
			got = append(got, d.Owner)
		}
	}
	route(4)
	// Restart: only the stored position and the counts survive.
	s = &routing.Snapshot{At: now, Users: append([]routing.Candidate(nil), s.Users...), Last: map[string]string{"t": s.Last["t"]}}
	route(2)
	// b leaves, d joins, a is deactivated.
	s.Users = []routing.Candidate{user("c", "t", 2, 0), {Name: "a", Team: "t", Open: 2}, user("d", "t", 0, 0)}
	route(3)
	// a member at capacity is skipped.
	s.Users[0].MaxOpen = s.Users[0].Open
	route(2)
	want := "a b c a | b c | d c d | d d"
	if g := fmt.Sprintf("%s %s %s %s | %s %s | %s %s %s | %s %s", toAny(got)...); g != want {
		t.Fatalf("round robin order %q, want %q", g, want)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func TestConditions(t *testing.T) {
	t.Parallel()
	timeline := now.Add(20 * 24 * time.Hour)
	lead := &leadflow.Lead{Email: "a@b.co", Title: "製造部長", Country: "JP", Region: "関東", Stage: leadflow.StageSQL,
		Score: 72.5, Traits: map[string]any{"plan": "pro", "seats": 40.0},
		FirstTouch: leadflow.Attribution{Source: "google", Campaign: "spring"},
		BANT:       leadflow.BANT{Budget: true, Need: true, Timeline: &timeline}}
	s := &routing.Snapshot{At: now, Users: []routing.Candidate{user("u", "", 0, 0)}}
	for _, tc := range []struct {
		when string
		want bool
	}{
		{`lead.region == "関東" && lead.country == "JP"`, true},
		{`lead.title.matches("部長")`, true},
		{`lead.stage in ["sql", "hql"]`, true},
		{`lead.score >= 70.0 && lead.score > 70`, true},
		{`lead.traits.plan == "pro" && lead.traits.seats > 30`, true},
		{`lead.traits.missing == "x"`, false}, // runtime error counts as false
		{`lead.bant.budget && lead.bant.timeline_days <= 30`, true},
		{`lead.bant.authority`, false},
		{`lead.source == "google" && lead.campaign == "spring"`, true},
		{`lead.email.endsWith("@b.co") && lead.owner == ""`, true},
	} {
		r := mustParse(t, "rules:\n  - id: r\n    when: '"+strings.ReplaceAll(tc.when, "'", "''")+"'\n    assign: {user: u}\n")
		got := r.Route(lead, s).Owner == "u"
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.when, got, tc.want)
		}
	}
	// A lead without BANT timeline or traits does not break anything.
	r := mustParse(t, "rules:\n  - id: r\n    when: lead.bant.timeline_days <= 30 || lead.traits.size() > 0\n    assign: {user: u}\n")
	if d := r.Route(&leadflow.Lead{}, s); d.Owner != "" {
		t.Errorf("empty lead matched: %+v", d)
	}
}
