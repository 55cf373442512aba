package routing_test

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/routing"
)

func Example() {
	rules, err := routing.Parse("routing.yaml", []byte(`
rules:
  - id: enterprise
    when: lead.employees >= 1000
    assign: {user: sato}
  - id: manufacturing
    when: lead.industry == "manufacturing"
    assign: {team: field-mfg, strategy: round_robin}
fallback: {queue: unassigned}
`))
	if err != nil {
		panic(err)
	}
	state := &routing.Snapshot{
		At: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		Users: []routing.Candidate{
			{Name: "sato", Team: "field-ent", Active: true, MaxOpen: 20, Open: 20}, // at capacity
			{Name: "ito", Team: "field-mfg", Active: true},
			{Name: "abe", Team: "field-mfg", Active: true},
		},
	}
	for _, lead := range []*leadflow.Lead{
		{Employees: 3000, Industry: "manufacturing"},
		{Employees: 40, Industry: "manufacturing"},
		{Employees: 40, Industry: "retail"},
	} {
		d := rules.Route(lead, state)
		state.Assign(d, lead.Owner)
		fmt.Printf("%+v\n", d)
	}
	// Output:
	// {Owner:abe Team:field-mfg Queue: Rule:manufacturing Strategy:round_robin}
	// {Owner:ito Team:field-mfg Queue: Rule:manufacturing Strategy:round_robin}
	// {Owner: Team: Queue:unassigned Rule:fallback Strategy:}
}

func ExampleParse_invalid() {
	_, err := routing.Parse("routing.yaml", []byte(`rules:
  - id: big
    when: lead.employes >= 1000
    assign: {user: sato, strategy: round_robin}
`))
	fmt.Println(err)
	for _, d := range err.(*leadflow.Error).Details {
		fmt.Printf("%s: %s\n", d.Where, d.Message)
	}
	// Output:
	// routing rules are invalid
	// routing.yaml:3:15: rule big: undefined field 'employes'
	// routing.yaml:4:26: assign: strategy applies to a team, not to a user
}
