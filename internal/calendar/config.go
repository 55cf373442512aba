package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
)

// FileConfig is the calendar as admins write it in the settings file (YAML
// or JSON):
//
//	time_zone: Asia/Tokyo
//	work_hours: ["09:00-12:00", "13:00-18:00"]
//	work_days: [mon, tue, wed, thu, fri]
//	japanese_holidays: true
//	company_holidays:
//	  - {dates: "12-29..01-03", name: 年末年始}
//	  - {dates: "2026-05-01", name: 創立記念日}
//	work_dates:
//	  - {dates: "2026-10-03", name: 土曜出勤}
//
// Omitted fields take the defaults of DefaultConfig, including
// japanese_holidays: true.
type FileConfig struct {
	TimeZone  string   `json:"time_zone,omitempty"`
	WorkHours []string `json:"work_hours,omitempty"`
	// WorkDays are English weekday names or abbreviations ("mon", "Monday")
	// or Japanese ones ("月", "月曜日").
	WorkDays         []string      `json:"work_days,omitempty"`
	JapaneseHolidays *bool         `json:"japanese_holidays,omitempty"`
	CompanyHolidays  []FileHoliday `json:"company_holidays,omitempty"`
	// WorkDates are days worked although they are rest days or holidays
	// (a working Saturday), in the form of company holidays.
	WorkDates []FileHoliday `json:"work_dates,omitempty"`
}

// FileHoliday is one company holiday in the settings file.
type FileHoliday struct {
	// Dates is "MM-DD" or "MM-DD..MM-DD" for every year (a range may cross
	// the new year), or "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD" once.
	Dates string `json:"dates"`
	Name  string `json:"name,omitempty"`
}

// ParseConfig turns the settings-file form into a Config and validates it as
// New does. Problems are one leadflow.EINVALID error with a Detail each;
// locations are relative to the calendar section ("work_hours[1]").
func ParseConfig(f FileConfig) (Config, error) {
	var v validator
	cfg := DefaultConfig()
	if f.TimeZone != "" {
		cfg.TimeZone = f.TimeZone
	}
	if f.JapaneseHolidays != nil {
		cfg.JapaneseHolidays = *f.JapaneseHolidays
	}
	if f.WorkHours != nil {
		cfg.WorkHours = []Span{}
		for i, s := range f.WorkHours {
			span, err := ParseSpan(s)
			if err != nil {
				v.add(fmt.Sprintf("work_hours[%d]", i), "%s", leadflow.ErrorMessage(err))
				continue
			}
			cfg.WorkHours = append(cfg.WorkHours, span)
		}
	}
	if f.WorkDays != nil {
		cfg.WorkDays = []time.Weekday{}
		for i, s := range f.WorkDays {
			d, ok := parseWeekday(s)
			if !ok {
				v.add(fmt.Sprintf("work_days[%d]", i), "%q is not a weekday; use mon, tue, … or 月, 火, …", s)
				continue
			}
			cfg.WorkDays = append(cfg.WorkDays, d)
		}
	}
	for i, h := range f.CompanyHolidays {
		r, err := ParseDateRange(h.Dates)
		if err != nil {
			v.add(fmt.Sprintf("company_holidays[%d].dates", i), "%s", leadflow.ErrorMessage(err))
			continue
		}
		r.Name = h.Name
		cfg.CompanyHolidays = append(cfg.CompanyHolidays, r)
	}
	for i, h := range f.WorkDates {
		r, err := ParseDateRange(h.Dates)
		if err != nil {
			v.add(fmt.Sprintf("work_dates[%d].dates", i), "%s", leadflow.ErrorMessage(err))
			continue
		}
		r.Name = h.Name
		cfg.WorkDates = append(cfg.WorkDates, r)
	}
	if err := v.err(); err != nil {
		return Config{}, err
	}
	if _, err := New(cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// File returns the settings-file form of c, for writing the settings back.
func (c Config) File() FileConfig {
	f := FileConfig{TimeZone: c.TimeZone, JapaneseHolidays: &c.JapaneseHolidays}
	for _, s := range c.WorkHours {
		f.WorkHours = append(f.WorkHours, s.String())
	}
	for _, d := range c.WorkDays {
		f.WorkDays = append(f.WorkDays, strings.ToLower(d.String()[:3]))
	}
	for _, r := range c.CompanyHolidays {
		f.CompanyHolidays = append(f.CompanyHolidays, FileHoliday{Dates: r.String(), Name: r.Name})
	}
	for _, r := range c.WorkDates {
		f.WorkDates = append(f.WorkDates, FileHoliday{Dates: r.String(), Name: r.Name})
	}
	return f
}

// ParseSpan reads a working period such as "09:00-18:00". The end may be
// "24:00"; an en dash or spaces around the dash are accepted.
func ParseSpan(s string) (Span, error) {
	s = strings.ReplaceAll(s, "–", "-")
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, leadflow.Errorf(leadflow.EINVALID, "%q is not a period; write it as 09:00-18:00", s)
	}
	start, err := parseClock(strings.TrimSpace(from))
	if err != nil {
		return Span{}, err
	}
	end, err := parseClock(strings.TrimSpace(to))
	if err != nil {
		return Span{}, err
	}
	if start >= end {
		return Span{}, leadflow.Errorf(leadflow.EINVALID, "%q ends before it starts", s)
	}
	return Span{Start: start, End: end}, nil
}

func parseClock(s string) (time.Duration, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, herr := strconv.Atoi(hh)
	m, merr := strconv.Atoi(mm)
	if !ok || herr != nil || merr != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, leadflow.Errorf(leadflow.EINVALID, "%q is not a time of day; write it as 09:00", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// ParseDateRange reads company holidays: "12-29..01-03" or "05-01" every
// year, "2026-05-01" or "2026-08-12..2026-08-14" once. Both ends must have
// the same form. The result has no Name.
func ParseDateRange(s string) (DateRange, error) {
	from, to, isRange := strings.Cut(strings.TrimSpace(s), "..")
	if !isRange {
		to = from
	}
	a, aYear, errA := parseDate(strings.TrimSpace(from))
	b, bYear, errB := parseDate(strings.TrimSpace(to))
	switch {
	case errA != nil || errB != nil:
		return DateRange{}, leadflow.Errorf(leadflow.EINVALID,
			"%q is not a date or range; write 12-29..01-03 (every year) or 2026-05-01 (once)", s)
	case aYear != bYear:
		return DateRange{}, leadflow.Errorf(leadflow.EINVALID,
			"%q mixes a yearly date with a dated one; give both ends a year or neither", s)
	}
	r := DateRange{From: a, To: b, Yearly: !aYear}
	if msg := r.check(); msg != "" {
		return DateRange{}, leadflow.Errorf(leadflow.EINVALID, "%s", msg)
	}
	return r, nil
}

// parseDate reads "YYYY-MM-DD" or "MM-DD" and reports whether it had a year.
func parseDate(s string) (Date, bool, error) {
	parts := strings.Split(s, "-")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || p == "" || p[0] == '+' {
			return Date{}, false, fmt.Errorf("bad date %q", s)
		}
		nums[i] = n
	}
	switch len(nums) {
	case 2:
		return Date{Month: time.Month(nums[0]), Day: nums[1]}, false, nil
	case 3:
		if len(parts[0]) != 4 {
			return Date{}, false, fmt.Errorf("bad year in %q", s)
		}
		return Date{Year: nums[0], Month: time.Month(nums[1]), Day: nums[2]}, true, nil
	}
	return Date{}, false, fmt.Errorf("bad date %q", s)
}

// weekdayNames lists the accepted spellings, English and Japanese.
var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"日": time.Sunday, "月": time.Monday, "火": time.Tuesday, "水": time.Wednesday,
	"木": time.Thursday, "金": time.Friday, "土": time.Saturday,
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if d, ok := weekdayNames[s]; ok {
		return d, true
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s == strings.ToLower(d.String()) {
			return d, true
		}
	}
	jp := strings.TrimSuffix(strings.TrimSuffix(s, "日"), "曜")
	if d, ok := weekdayNames[jp]; ok && jp != s {
		return d, true
	}
	return 0, false
}
