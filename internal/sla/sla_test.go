package sla_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/sla"
)

var tokyo = mustLoad("Asia/Tokyo")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, tokyo) }

const lunch = `
calendar:
  time_zone: Asia/Tokyo
  work_hours: ["09:00-12:00", "13:00-18:00"]
  company_holidays: [{dates: "12-29..01-03", name: 年末年始}]
policies:
  - id: hql-first-touch
    stage: hql
    target: first_touch
    within: 1h
    warn_at: 75%
    escalate: {notify_manager: true, reassign: true}
  - {id: sql-first-touch, stage: sql, target: first_touch, within: 1d, warn_at: 75%}
  - {id: mql-accept, stage: mql, target: accept, within: 2d, warn_at: 75%}
  - {id: sql-accept, stage: sql, target: accept, within: 90m, warn_at: 0%}
`

func TestDefault(t *testing.T) {
	t.Parallel()
	p := sla.Default()
	if len(p.List) != 3 {
		t.Fatalf("default policies: %+v", p.List)
	}
	for _, c := range []struct {
		stage  leadflow.Stage
		id     string
		target sla.Target
		within string
	}{
		{leadflow.StageHQL, "hql-first-touch", sla.TargetFirstTouch, "1h"},
		{leadflow.StageSQL, "sql-first-touch", sla.TargetFirstTouch, "1d"},
		{leadflow.StageMQL, "mql-accept", sla.TargetAccept, "2d"},
	} {
		got := p.For(c.stage)
		if len(got) != 1 || got[0].ID != c.id || got[0].Target != c.target || got[0].Within.String() != c.within ||
			got[0].WarnAt != 0.75 || !got[0].Escalate.NotifyManager || got[0].Escalate.Reassign {
			t.Errorf("For(%s) = %+v", c.stage, got)
		}
	}
	if got := p.For(leadflow.StageOpportunity); got != nil {
		t.Errorf("For(opportunity) = %+v, want none", got)
	}
	if p.Calendar.Location().String() != "Asia/Tokyo" {
		t.Errorf("default zone %s", p.Calendar.Location())
	}
	if ok, name := p.Calendar.IsHoliday(at(2026, 12, 30, 0, 0)); !ok || name != "年末年始" {
		t.Errorf("12/30 holiday = %v %q", ok, name)
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	def := sla.Default()
	lun, err := sla.Parse("sla.yaml", []byte(lunch))
	if err != nil {
		t.Fatal(err)
	}
	pol := func(p *sla.Policies, id string) sla.Policy {
		pol, ok := p.ByID(id)
		if !ok {
			t.Fatalf("no policy %s", id)
		}
		return pol
	}
	for _, c := range []struct {
		name         string
		p            *sla.Policies
		policy       string
		start        time.Time
		warn, due    time.Time
		noWarning    bool
		wantRemainAt time.Duration
	}{
		// Friday 17:30, 1 business hour: 30 minutes on Friday, 30 on Monday.
		{name: "HQL Friday evening", p: def, policy: "hql-first-touch", start: at(2026, 6, 5, 17, 30),
			warn: at(2026, 6, 8, 9, 15), due: at(2026, 6, 8, 9, 30)},
		// Saturday counts from Monday's opening.
		{name: "HQL weekend", p: def, policy: "hql-first-touch", start: at(2026, 6, 6, 11, 0),
			warn: at(2026, 6, 8, 9, 45), due: at(2026, 6, 8, 10, 0)},
		// Friday 9 January 2026 17:30; Monday the 12th is 成人の日.
		{name: "HQL over a national holiday", p: def, policy: "hql-first-touch", start: at(2026, 1, 9, 17, 30),
			warn: at(2026, 1, 13, 9, 15), due: at(2026, 1, 13, 9, 30)},
		// Monday 28 December 17:30: 年末年始 closes 12/29–1/3.
		{name: "HQL over 年末年始", p: def, policy: "hql-first-touch", start: at(2026, 12, 28, 17, 30),
			warn: at(2027, 1, 4, 9, 15), due: at(2027, 1, 4, 9, 30)},
		{name: "SQL 1 day over 年末年始", p: def, policy: "sql-first-touch", start: at(2026, 12, 28, 15, 0),
			warn: at(2027, 1, 4, 12, 45), due: at(2027, 1, 4, 15, 0)},
		{name: "MQL 2 days over 年末年始", p: def, policy: "mql-accept", start: at(2026, 12, 25, 10, 0),
			warn: at(2026, 12, 28, 14, 30), due: at(2027, 1, 4, 10, 0)},
		// With a lunch break the day has 8 hours; 75 % is 6 of them.
		{name: "SQL 1 day with lunch", p: lun, policy: "sql-first-touch", start: at(2026, 6, 1, 10, 0),
			warn: at(2026, 6, 1, 17, 0), due: at(2026, 6, 2, 10, 0)},
		{name: "HQL across lunch", p: lun, policy: "hql-first-touch", start: at(2026, 6, 1, 11, 30),
			warn: at(2026, 6, 1, 13, 15), due: at(2026, 6, 1, 13, 30)},
		{name: "no warning", p: lun, policy: "sql-accept", start: at(2026, 6, 1, 17, 0),
			noWarning: true, due: at(2026, 6, 2, 9, 30)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			warn, due := c.p.Deadline(pol(c.p, c.policy), c.start.UTC())
			if !due.Equal(c.due) {
				t.Errorf("due %s, want %s", due.In(tokyo), c.due)
			}
			if c.noWarning {
				if !warn.IsZero() {
					t.Errorf("warn %s, want none", warn)
				}
			} else if !warn.Equal(c.warn) {
				t.Errorf("warn %s, want %s", warn.In(tokyo), c.warn)
			}
			if due.Location().String() != "Asia/Tokyo" {
				t.Errorf("due in %s, want the calendar's zone", due.Location())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, src string
		want      []string // "where: message fragment"
	}{
		{"syntax", "policies: [\n", []string{"sla.yaml:1:"}},
		{"empty", "", []string{"sla.yaml:1:1: the document is empty"}},
		{"unknown field", "policies:\n  - id: a\n    stag: hql\n", []string{"sla.yaml:3:5:", "unknown field"}},
		{"wrong type", "policies: {id: a}\n", []string{"sla.yaml:1:"}},
		{"bad values", `calendar:
  work_hours: ["09:00-25:00"]
  company_holidays: [{dates: "13-01"}]
policies:
  - id: a
    stage: hqll
    target: touch
    within: 1w
    warn_at: 120%
  - id: a
    stage: sql
    target: accept
    within: 30s
  - stage: mql
    target: accept
    within: 0d
`, []string{
			"sla.yaml:2:16: calendar.work_hours[0]",
			"sla.yaml:3:30: calendar.company_holidays[0].dates",
			"sla.yaml:6:12: unknown stage \"hqll\"",
			"sla.yaml:7:13: unknown target \"touch\"",
			"sla.yaml:8:13: within \"1w\"",
			"sla.yaml:9:14: warn_at \"120%\"",
			"sla.yaml:10:9: duplicate policy id \"a\"",
			"sla.yaml:13:13: within \"30s\"",
			"sla.yaml:14:5: policy needs an id",
			"sla.yaml:16:13: within \"0d\"",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := sla.Parse("sla.yaml", []byte(c.src))
			e, ok := err.(*leadflow.Error)
			if !ok || e.Code != leadflow.EINVALID || e.Message != "SLA policies are invalid" {
				t.Fatalf("err = %#v", err)
			}
			var got []string
			for _, d := range e.Details {
				got = append(got, d.Where+": "+d.Message)
			}
			all := strings.Join(got, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("missing %q in\n%s", w, all)
				}
			}
			if c.name == "bad values" && len(got) != len(c.want) {
				t.Errorf("got %d problems, want %d:\n%s", len(got), len(c.want), all)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	p, err := sla.Parse("sla.yaml", []byte("policies:\n  - {id: x, stage: sal, target: first_touch, within: 1h30m, escalate: {reassign: true}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := p.List[0]
	if got.Within.Duration != 90*time.Minute || got.Within.String() != "1h30m" || got.WarnAt != 0.75 ||
		!got.Escalate.NotifyManager || !got.Escalate.Reassign {
		t.Fatalf("defaults: %+v", got)
	}
	// The calendar defaults to Tokyo, 09:00–18:00, Monday–Friday and the
	// national holidays.
	if ok, name := p.Calendar.IsHoliday(at(2026, 5, 5, 0, 0)); !ok || name != "こどもの日" {
		t.Errorf("5/5 = %v %q", ok, name)
	}
	if len(p.Calendar.Holidays(2026)) == 0 {
		t.Error("no holidays in 2026")
	}
}
