// Package calendar measures business time for SLA deadlines: working hours
// in a time zone, working weekdays, Japanese national holidays and company
// holidays such as 年末年始.
//
// The package is pure: it never reads the clock. Every instant is passed in,
// and every answer is computed in the calendar's time zone, whatever the
// location of the time.Time given. A *Calendar is immutable after New and
// safe for concurrent use.
package calendar

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
	_ "time/tzdata" // the binary must resolve IANA zones on hosts without a zoneinfo database

	"github.com/leadflow/leadflow"
)

// Defaults used by New for empty fields and by DefaultConfig.
const (
	DefaultTimeZone = "Asia/Tokyo"
)

// Config describes a business calendar. The zero value of TimeZone,
// WorkHours and WorkDays means the default (Asia/Tokyo, 09:00–18:00,
// Monday–Friday). JapaneseHolidays is a plain bool, so a zero Config has no
// national holidays: start from DefaultConfig, or from a settings file through
// ParseConfig, where it defaults to true.
type Config struct {
	// TimeZone is an IANA zone name such as "Asia/Tokyo".
	TimeZone string
	// WorkHours are the daily working periods, e.g. 09:00–12:00 and
	// 13:00–18:00 for a lunch break. They may touch but not overlap.
	WorkHours []Span
	// WorkDays are the working weekdays.
	WorkDays []time.Weekday
	// JapaneseHolidays closes the national holidays of Japan (国民の祝日),
	// substitute holidays (振替休日) and citizens' holidays (国民の休日).
	JapaneseHolidays bool
	// CompanyHolidays are further closed days, yearly or on given dates.
	CompanyHolidays []DateRange
	// WorkDates are days worked although they are weekly rest days or
	// holidays (a working Saturday, 出勤日), yearly or on given dates; they
	// win over every closed day.
	WorkDates []DateRange
}

// DefaultConfig returns the calendar most Japanese B2B companies run on:
// Asia/Tokyo, 09:00–18:00, Monday–Friday, national holidays closed.
func DefaultConfig() Config {
	return Config{
		TimeZone:         DefaultTimeZone,
		WorkHours:        []Span{{Start: 9 * time.Hour, End: 18 * time.Hour}},
		WorkDays:         []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		JapaneseHolidays: true,
	}
}

// Span is one working period of a day, as offsets from midnight in wall-clock
// time (so 09:00 stays 09:00 on a daylight-saving day). End may be 24h.
type Span struct {
	Start, End time.Duration
}

// String formats the span as "09:00-18:00", the form ParseSpan reads.
func (s Span) String() string {
	return clock(s.Start) + "-" + clock(s.End)
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// Holiday is one closed day, as listed on the settings page.
type Holiday struct {
	// Date is midnight of the day in the calendar's time zone.
	Date time.Time
	// Name is the Japanese name of a national holiday (元日, 振替休日, …) or
	// the name given to the company holiday.
	Name string
	// Company is true for days from Config.CompanyHolidays.
	Company bool
}

// Calendar answers business-time questions. Build it with New.
type Calendar struct {
	loc      *time.Location
	spans    []Span
	workday  [7]bool
	national bool
	company  []DateRange
	work     []DateRange

	mu    sync.RWMutex
	years map[int]*yearInfo // closed days per year, built on first use
}

// yearInfo records, for each day of one year (indexed by YearDay), why it is
// closed. It is immutable once built.
type yearInfo struct {
	national [367]string
	company  [367]string
	work     [367]string
}

// New validates cfg and builds a Calendar. Problems are reported as one
// leadflow.EINVALID error with a Detail per problem.
func New(cfg Config) (*Calendar, error) {
	var v validator
	if cfg.TimeZone == "" {
		cfg.TimeZone = DefaultTimeZone
	}
	if cfg.WorkHours == nil {
		cfg.WorkHours = DefaultConfig().WorkHours
	}
	if cfg.WorkDays == nil {
		cfg.WorkDays = DefaultConfig().WorkDays
	}
	c := &Calendar{national: cfg.JapaneseHolidays, years: map[int]*yearInfo{}}

	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		v.add("time_zone", "unknown time zone %q; use an IANA name such as Asia/Tokyo", cfg.TimeZone)
	}
	c.loc = loc

	// Spans may be given in any order; check them sorted, report them by
	// their position in the configuration.
	order := make([]int, len(cfg.WorkHours))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		return cmp.Compare(cfg.WorkHours[i].Start, cfg.WorkHours[j].Start)
	})
	if len(order) == 0 {
		v.add("work_hours", "at least one working period is required")
	}
	for k, i := range order {
		s := cfg.WorkHours[i]
		where := fmt.Sprintf("work_hours[%d]", i)
		switch {
		case s.Start < 0 || s.End > 24*time.Hour:
			v.add(where, "%s is outside 00:00-24:00", s)
		case s.Start >= s.End:
			v.add(where, "%s ends before it starts", s)
		case k > 0 && s.Start < cfg.WorkHours[order[k-1]].End:
			v.add(where, "%s overlaps %s", s, cfg.WorkHours[order[k-1]])
		}
		c.spans = append(c.spans, s)
	}

	for i, d := range cfg.WorkDays {
		if d < time.Sunday || d > time.Saturday {
			v.add(fmt.Sprintf("work_days[%d]", i), "%d is not a weekday", int(d))
			continue
		}
		c.workday[d] = true
	}
	if !slices.Contains(c.workday[:], true) {
		v.add("work_days", "at least one working weekday is required")
	}

	for i, r := range cfg.CompanyHolidays {
		if msg := r.check(); msg != "" {
			v.add(fmt.Sprintf("company_holidays[%d]", i), "%s", msg)
		}
	}
	if yearlyCoverAll(cfg.CompanyHolidays) {
		v.add("company_holidays", "yearly company holidays close every day of the year")
	}
	c.company = slices.Clone(cfg.CompanyHolidays)
	for i, r := range cfg.WorkDates {
		if msg := r.check(); msg != "" {
			v.add(fmt.Sprintf("work_dates[%d]", i), "%s", msg)
		}
	}
	c.work = slices.Clone(cfg.WorkDates)

	if err := v.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsBusinessTime reports whether t falls inside working hours on a working day.
func (c *Calendar) IsBusinessTime(t time.Time) bool {
	t = t.In(c.loc)
	day := dateOf(t)
	if !c.isWorkday(day) {
		return false
	}
	for _, s := range c.spans {
		start, end := c.wall(day, s.Start), c.wall(day, s.End)
		if !t.Before(start) && t.Before(end) {
			return true
		}
	}
	return false
}

// IsHoliday reports whether the day of d (in the calendar's time zone) is a
// national or company holiday, and its name; a national holiday's name wins
// when both apply. Weekly rest days are not holidays.
func (c *Calendar) IsHoliday(d time.Time) (bool, string) {
	day := dateOf(d.In(c.loc))
	y := c.year(day.Year)
	yd := day.yearDay()
	if n := y.national[yd]; n != "" {
		return true, n
	}
	if n := y.company[yd]; n != "" {
		return true, n
	}
	return false, ""
}

// Holidays lists the closed days of year in date order. A day that is both a
// national and a company holiday is listed twice, national first, so the
// settings page can show both sources.
func (c *Calendar) Holidays(year int) []Holiday {
	y := c.year(year)
	var out []Holiday
	for day := (Date{year, time.January, 1}); day.Year == year; day = day.addDays(1) {
		yd := day.yearDay()
		midnight := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, c.loc)
		if n := y.national[yd]; n != "" {
			out = append(out, Holiday{Date: midnight, Name: n})
		}
		if n := y.company[yd]; n != "" {
			out = append(out, Holiday{Date: midnight, Name: n, Company: true})
		}
	}
	return out
}

// isWorkday reports whether day is a working weekday and not a holiday,
// or a working date.
func (c *Calendar) isWorkday(day Date) bool {
	y := c.year(day.Year)
	yd := day.yearDay()
	if y.work[yd] != "" {
		return true
	}
	return c.workday[day.weekday()] && y.national[yd] == "" && y.company[yd] == ""
}

// WorkDates lists the working dates of year (Config.WorkDates) in date
// order, as Holidays lists closed days (Company is false).
func (c *Calendar) WorkDates(year int) []Holiday {
	y := c.year(year)
	var out []Holiday
	for day := (Date{year, time.January, 1}); day.Year == year; day = day.addDays(1) {
		if n := y.work[day.yearDay()]; n != "" {
			out = append(out, Holiday{Date: time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, c.loc), Name: n})
		}
	}
	return out
}

// wall returns the instant at offset off from midnight of day, read as a
// wall clock so that DST changes do not shift working hours.
func (c *Calendar) wall(day Date, off time.Duration) time.Time {
	h := int(off / time.Hour)
	m := int(off % time.Hour / time.Minute)
	s := int(off % time.Minute / time.Second)
	ns := int(off % time.Second)
	return time.Date(day.Year, day.Month, day.Day, h, m, s, ns, c.loc)
}

// year returns the closed days of year, building and caching them once.
func (c *Calendar) year(year int) *yearInfo {
	c.mu.RLock()
	y := c.years[year]
	c.mu.RUnlock()
	if y != nil {
		return y
	}
	y = &yearInfo{}
	if c.national {
		for day, name := range nationalHolidays(year) {
			y.national[day.yearDay()] = name
		}
	}
	for day := (Date{year, time.January, 1}); day.Year == year; day = day.addDays(1) {
		for _, r := range c.company {
			if r.contains(day) {
				y.company[day.yearDay()] = r.name()
				break
			}
		}
		for _, r := range c.work {
			if r.contains(day) {
				y.work[day.yearDay()] = r.Name
				if r.Name == "" {
					y.work[day.yearDay()] = defaultWorkDateName
				}
				break
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.years[year]; prev != nil {
		return prev
	}
	c.years[year] = y
	return y
}

// validator collects every problem of a configuration, so that an admin
// fixes the settings file in one pass rather than one error at a time.
type validator struct {
	details []leadflow.Detail
}

func (v *validator) add(where, format string, args ...any) {
	v.details = append(v.details, leadflow.Detail{Where: where, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.details) == 0 {
		return nil
	}
	first := v.details[0]
	msg := "invalid business calendar: " + first.Where + ": " + first.Message
	if n := len(v.details) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return &leadflow.Error{Code: leadflow.EINVALID, Message: msg, Details: v.details}
}
