package sla_test

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/sla"
)

// An HQL and an SQL both arrive on Friday 25 December 2026 at 17:30 in
// Tokyo. 年末年始 closes the office from the 29th to 3 January.
func Example() {
	pols, err := sla.Parse("sla.yaml", []byte(`
calendar:
  time_zone: Asia/Tokyo
  work_hours: ["09:00-12:00", "13:00-18:00"]
  company_holidays: [{dates: "12-29..01-03", name: 年末年始}]
policies:
  - {id: hql-first-touch, stage: hql, target: first_touch, within: 1h, warn_at: 75%}
  - {id: sql-first-touch, stage: sql, target: first_touch, within: 1d, warn_at: 75%}
  - {id: mql-accept, stage: mql, target: accept, within: 2d, warn_at: 75%}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	start := time.Date(2026, 12, 25, 17, 30, 0, 0, pols.Calendar.Location())
	for _, stage := range []leadflow.Stage{leadflow.StageHQL, leadflow.StageSQL, leadflow.StageMQL} {
		for _, p := range pols.For(stage) {
			warn, due := pols.Deadline(p, start)
			fmt.Printf("%-16s warn %s  due %s\n", p.ID, warn.Format("Mon 01-02 15:04"), due.Format("Mon 01-02 15:04"))
		}
	}
	// Output:
	// hql-first-touch  warn Mon 12-28 09:15  due Mon 12-28 09:30
	// sql-first-touch  warn Mon 12-28 15:30  due Mon 12-28 17:30
	// mql-accept       warn Mon 01-04 13:30  due Mon 01-04 17:30
}

// Problems are reported all at once, each at its line and column.
func ExampleParse_errors() {
	_, err := sla.Parse("sla.yaml", []byte(`policies:
  - id: hql-first-touch
    stage: hql
    target: first_touch
    within: 1 hour
    warn_at: 120%
`))
	for _, d := range err.(*leadflow.Error).Details {
		fmt.Println(d.Where, d.Message)
	}
	// Output:
	// sla.yaml:5:13 within "1 hour" is not a business time; write minutes or hours (30m, 1h, 1h30m) or days (2d)
	// sla.yaml:6:14 warn_at "120%" must be a percentage of the allowed time from 0% (no warning) to 99%, e.g. 75%
}
