package calendar

import (
	"fmt"
	"time"
)

// Date is a civil date with no time zone. In a yearly DateRange, Year is 0
// and only Month and Day count.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String formats the date as "2026-05-01", or "05-01" when Year is 0.
func (d Date) String() string {
	if d.Year == 0 {
		return fmt.Sprintf("%02d-%02d", int(d.Month), d.Day)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// dateOf returns the civil date of t in t's own location.
func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// noonUTC anchors date arithmetic in UTC, where every day has 24 hours.
func (d Date) noonUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
}

func (d Date) addDays(n int) Date    { return dateOf(d.noonUTC().AddDate(0, 0, n)) }
func (d Date) weekday() time.Weekday { return d.noonUTC().Weekday() }
func (d Date) yearDay() int          { return d.noonUTC().YearDay() }

// valid reports whether the date exists; with Year 0 it is checked against a
// leap year, so a yearly 02-29 is allowed (and simply skipped in other years).
func (d Date) valid() bool {
	y := d.Year
	if y == 0 {
		y = 2024
	}
	return d.Month >= time.January && d.Month <= time.December && d.Day >= 1 &&
		dateOf(time.Date(y, d.Month, d.Day, 12, 0, 0, 0, time.UTC)) == Date{y, d.Month, d.Day}
}

// compare orders dates; callers compare like with like (both yearly or both dated).
func (d Date) compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return d.Year - e.Year
	case d.Month != e.Month:
		return int(d.Month - e.Month)
	default:
		return d.Day - e.Day
	}
}

// DateRange is a run of closed days, both ends included. A yearly range
// repeats every year and may cross the new year: 12-29..01-03 closes
// 29 December to 3 January (年末年始) each winter.
type DateRange struct {
	From, To Date
	// Yearly means From and To carry no year and the range recurs.
	Yearly bool
	// Name is shown for the closed days; "休業日" when empty.
	Name string
}

// defaultCompanyHolidayName names company holidays configured without a name.
const defaultCompanyHolidayName = "休業日"

// defaultWorkDateName names working dates configured without a name.
const defaultWorkDateName = "出勤日"

func (r DateRange) name() string {
	if r.Name == "" {
		return defaultCompanyHolidayName
	}
	return r.Name
}

// String formats the range in the form ParseDateRange reads.
func (r DateRange) String() string {
	if r.From == r.To {
		return r.From.String()
	}
	return r.From.String() + ".." + r.To.String()
}

// check returns what is wrong with the range, or "".
func (r DateRange) check() string {
	switch {
	case r.Yearly && (r.From.Year != 0 || r.To.Year != 0):
		return fmt.Sprintf("yearly range %s must not carry a year", r)
	case !r.Yearly && (r.From.Year == 0 || r.To.Year == 0):
		return fmt.Sprintf("range %s needs a year, or must be yearly", r)
	case !r.From.valid():
		return fmt.Sprintf("%s is not a date", r.From)
	case !r.To.valid():
		return fmt.Sprintf("%s is not a date", r.To)
	case !r.Yearly && r.From.compare(r.To) > 0:
		return fmt.Sprintf("range %s ends before it starts", r)
	}
	return ""
}

// contains reports whether day is closed by the range.
func (r DateRange) contains(day Date) bool {
	if !r.Yearly {
		return r.From.compare(day) <= 0 && day.compare(r.To) <= 0
	}
	md := Date{Month: day.Month, Day: day.Day}
	if r.From.compare(r.To) <= 0 {
		return r.From.compare(md) <= 0 && md.compare(r.To) <= 0
	}
	// Crosses the new year: the end of one year and the start of the next.
	return md.compare(r.From) >= 0 || md.compare(r.To) <= 0
}

// yearlyCoverAll reports whether the yearly ranges close every day of a
// common year, which would leave no business time at all. A common year is
// the stricter test: leaving only 02-29 open still closes three years in four.
func yearlyCoverAll(ranges []DateRange) bool {
	for day := (Date{2025, time.January, 1}); day.Year == 2025; day = day.addDays(1) {
		closed := false
		for _, r := range ranges {
			if r.Yearly && r.check() == "" && r.contains(day) {
				closed = true
				break
			}
		}
		if !closed {
			return false
		}
	}
	return true
}
