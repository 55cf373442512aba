// Package sla holds leadflow's service-level policies: per stage, how long
// sales may take to act on a lead (first touch, or accept/reject), counted
// in business time on a calendar, when to warn before the deadline and how
// to escalate a breach.
//
// Parsing, validation and deadline computation are pure: time is passed in
// and nothing here reads the clock or the database. The clocks themselves
// (one row per lead and policy in sla_clocks) and their timers (River jobs
// scheduled at the warning and the deadline) live in worker.go.
package sla

import (
	_ "embed"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
)

// Target is what stops a clock.
type Target string

// Targets.
const (
	// TargetFirstTouch is met by the first call, email or meeting logged by
	// sales.
	TargetFirstTouch Target = "first_touch"
	// TargetAccept is met when sales accepts or rejects the lead.
	TargetAccept Target = "accept"
)

// Valid reports whether t is a known target.
func (t Target) Valid() bool { return t == TargetFirstTouch || t == TargetAccept }

// Within is the time a policy allows, in business time: either a duration
// of working hours (Duration, e.g. 1h, 90m) or a number of business days
// (Days, e.g. 2d). Days are counted with calendar.AddDays, so "1d" from
// Tuesday 10:00 is Wednesday 10:00 whatever the lunch break.
type Within struct {
	Duration time.Duration
	Days     int
}

// String formats w as it is written in the settings file ("1h", "90m", "2d").
func (w Within) String() string {
	if w.Days > 0 {
		return strconv.Itoa(w.Days) + "d"
	}
	s := w.Duration.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalText writes the settings-file form, so JSON shows "1h", not
// nanoseconds.
func (w Within) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// Escalation says what happens at a breach besides recording it.
type Escalation struct {
	// NotifyManager sends the breach to the manager of the lead's team
	// instead of the owner.
	NotifyManager bool `json:"notify_manager"`
	// Reassign gives the lead to the next active member of the team, who
	// gets a fresh clock of the same policy.
	Reassign bool `json:"reassign"`
}

// Policy is one SLA: leads entering Stage must reach Target Within business
// time.
type Policy struct {
	ID     string         `json:"id"`
	Stage  leadflow.Stage `json:"stage"`
	Target Target         `json:"target"`
	Within Within         `json:"within"`
	// WarnAt is the share of the allowed business time after which a
	// warning goes out, in (0, 1); 0 sends no warning.
	WarnAt   float64    `json:"warn_at"`
	Escalate Escalation `json:"escalate"`
}

// Policies are the SLA settings: the calendar and the policies, as parsed
// from the settings document. A *Policies is immutable and safe for
// concurrent use.
type Policies struct {
	// Source is the settings document the policies were parsed from.
	Source   string             `json:"-"`
	Config   calendar.Config    `json:"-"`
	Calendar *calendar.Calendar `json:"-"`
	List     []Policy           `json:"policies"`
}

// DefaultSource is the settings document used until an admin stores one:
// the examples of PRODUCT.md on a Tokyo calendar with 年末年始 closed.
//
//go:embed default.yaml
var DefaultSource []byte

// Default returns the policies of DefaultSource.
func Default() *Policies {
	p, err := Parse("sla.yaml", DefaultSource)
	if err != nil {
		panic("sla: default policies do not parse: " + err.Error())
	}
	return p
}

// For returns the policies of a stage, in file order.
func (p *Policies) For(stage leadflow.Stage) []Policy {
	var out []Policy
	for _, pol := range p.List {
		if pol.Stage == stage {
			out = append(out, pol)
		}
	}
	return out
}

// ByID returns the policy with the id.
func (p *Policies) ByID(id string) (Policy, bool) {
	for _, pol := range p.List {
		if pol.ID == id {
			return pol, true
		}
	}
	return Policy{}, false
}

// Deadline returns when a clock of pol started at start warns and is due.
// A start outside working hours counts from the next opening (Friday 17:30
// with 1h on a 09:00–18:00 calendar is due Monday 09:30, or Tuesday when
// Monday is a holiday). warnAt is the zero Time when the policy sends no
// warning. Both are in the calendar's time zone.
func (p *Policies) Deadline(pol Policy, start time.Time) (warnAt, dueAt time.Time) {
	cal := p.Calendar
	if pol.Within.Days > 0 {
		dueAt = cal.AddDays(start, pol.Within.Days)
	} else {
		dueAt = cal.Add(start, pol.Within.Duration)
	}
	if pol.WarnAt > 0 && !dueAt.IsZero() {
		total := cal.Between(start, dueAt)
		// Round to the second: warnings need no sub-second precision and
		// the stored times stay readable.
		warnAt = cal.Add(start, (time.Duration(float64(total) * pol.WarnAt)).Round(time.Second))
	}
	return warnAt, dueAt
}

// Remaining returns the business time left until due as of now; negative
// once the deadline has passed.
func (p *Policies) Remaining(now, due time.Time) time.Duration {
	return p.Calendar.Between(now, due)
}

// CountsAsTouch reports whether a logged touch of kind stops first_touch
// clocks: a call, an email or a meeting does; "other" (a note, a task)
// does not.
func CountsAsTouch(kind string) bool {
	switch kind {
	case "call", "email", "meeting":
		return true
	}
	return false
}
