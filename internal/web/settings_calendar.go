package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// The business calendar as a form (Settings → SLA → calendar): the
// calendar section of the SLA settings document, edited field by field
// instead of in YAML. Saving rewrites that section only (the policies and
// their comments stay as they are) and validates the whole document as the
// YAML editor does; problems show next to their fields.

// weekdayKeys are the form's weekday checkboxes, Monday first, with the
// names the settings file uses.
var weekdayKeys = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// calendarZones are offered in the time zone field (any IANA name may be
// typed).
var calendarZones = []string{"Asia/Tokyo", "UTC", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Asia/Kolkata",
	"Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Australia/Sydney"}

const (
	calendarHourRows  = 4   // working periods a day
	calendarBlankRows = 3   // empty rows after the holidays and working dates
	calendarMaxRows   = 200 // rows read from one form
)

type spanRow struct{ Start, End string }

// dateRow is one company holiday or working date: From and To are
// YYYY-MM-DD (type=date); Yearly repeats it every year (the year is then
// only a placeholder).
type dateRow struct {
	From, To, Name string
	Yearly         bool
}

type calendarForm struct {
	TimeZone  string
	Days      map[string]bool
	Hours     []spanRow
	Japanese  bool
	Holidays  []dateRow
	WorkDates []dateRow
}

type calendarView struct {
	Form     calendarForm
	Errors   map[string]string // by field: tz, days, hours, h0…, ch0…, wk0…
	Problems []string          // of the whole document
	Saved    bool
	Setting  *store.Setting
	Weekdays []string
	Zones    []string
	// The year listed, its closed days and its working dates, in the
	// calendar in force.
	Year, PrevYear, NextYear int
	TimeZone                 string
	Closed, Worked           []holidayRow
	// The rows of company holidays and of working dates, for the
	// template of a list of dates.
	HolidayRows, WorkRows dateSection
}

type dateSection struct {
	L      *locale
	Errors map[string]string
	Prefix string
	Rows   []dateRow
}

// slaSource is the SLA settings document in force (the default when none
// was saved).
func (h *handler) slaSource(r *http.Request) (string, *store.Setting, error) {
	st, err := h.deps.DB.Setting(r.Context(), store.SettingSLA)
	switch leadflow.ErrorCode(err) {
	case "":
		return st.Value, st, nil
	case leadflow.ENOTFOUND:
		return string(sla.DefaultSource), nil, nil
	}
	return "", nil, err
}

// settingsCalendar shows the form filled with the calendar in force.
func (h *handler) settingsCalendar(w http.ResponseWriter, r *http.Request) {
	src, st, err := h.slaSource(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := sla.Parse("sla.yaml", []byte(src))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := calendarView{Form: formOf(p.Config, h.now().In(p.Calendar.Location()).Year()), Setting: st,
		Saved: r.URL.Query().Has("saved")}
	h.showCalendar(w, r, http.StatusOK, v)
}

func (h *handler) showCalendar(w http.ResponseWriter, r *http.Request, status int, v calendarView) {
	v.Weekdays, v.Zones = weekdayKeys, calendarZones
	for len(v.Form.Hours) < calendarHourRows {
		v.Form.Hours = append(v.Form.Hours, spanRow{})
	}
	pad := func(rows []dateRow) []dateRow {
		for len(rows) > 0 && rows[len(rows)-1] == (dateRow{}) {
			rows = rows[:len(rows)-1]
		}
		for range calendarBlankRows {
			rows = append(rows, dateRow{})
		}
		return rows
	}
	v.Form.Holidays, v.Form.WorkDates = pad(v.Form.Holidays), pad(v.Form.WorkDates)
	// The days listed are those of the calendar in force (a refused form
	// changed nothing).
	if src, st, err := h.slaSource(r); err == nil {
		if v.Setting == nil {
			v.Setting = st
		}
		if p, err := sla.Parse("sla.yaml", []byte(src)); err == nil {
			loc := p.Calendar.Location()
			v.TimeZone, v.Year = loc.String(), h.now().In(loc).Year()
			if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 1970 && y <= 2200 {
				v.Year = y
			}
			v.PrevYear, v.NextYear = v.Year-1, v.Year+1
			lang := h.locale(r).Lang
			v.Closed = holidayRows(p.Calendar.Holidays(v.Year), lang)
			v.Worked = holidayRows(p.Calendar.WorkDates(v.Year), lang)
		}
	}
	L := h.locale(r)
	v.HolidayRows = dateSection{L: L, Errors: v.Errors, Prefix: "ch", Rows: v.Form.Holidays}
	v.WorkRows = dateSection{L: L, Errors: v.Errors, Prefix: "wk", Rows: v.Form.WorkDates}
	h.render(w, r, status, "settings_calendar", "settings.calendar", v)
}

// saveCalendar validates the form and rewrites the calendar section of
// the SLA settings; a form with problems changes nothing and comes back
// with each problem next to its field.
func (h *handler) saveCalendar(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSettingsSize)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, leadflow.Invalidf("form", "the form could not be read: %v", err))
		return
	}
	form := readCalendarForm(r)
	v := calendarView{Form: form, Errors: map[string]string{}}
	L := h.locale(r)
	fc, rows := form.file(v.Errors, L.T)
	// The calendar's own checks run on the rows the form could read, so
	// that every problem shows at once.
	cfg, err := calendar.ParseConfig(fc)
	if err != nil {
		var le *leadflow.Error
		if !errors.As(err, &le) {
			h.fail(w, r, err)
			return
		}
		for _, d := range le.Details {
			field := rows.field(d.Where)
			if _, dup := v.Errors[field]; !dup {
				v.Errors[field] = calendarMessage(L, d.Message)
			}
		}
		if len(le.Details) == 0 {
			v.Problems = append(v.Problems, le.Message)
		}
	}
	if len(v.Errors) > 0 || len(v.Problems) > 0 {
		h.showCalendar(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	src, _, err := h.slaSource(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	doc := replaceCalendar(src, calendarYAML(cfg.File()))
	if _, err := sla.Parse("sla.yaml", []byte(doc)); err != nil {
		var le *leadflow.Error
		if !errors.As(err, &le) || le.Code != leadflow.EINVALID {
			h.fail(w, r, err)
			return
		}
		for _, d := range le.Details {
			v.Problems = append(v.Problems, strings.TrimSpace(d.Where+" "+d.Message))
		}
		if len(le.Details) == 0 {
			v.Problems = append(v.Problems, le.Message)
		}
		h.showCalendar(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	if err := h.putSetting(r.Context(), store.SettingSLA, []byte(doc), string(actor(userOf(r.Context())))); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings/calendar?saved=1", http.StatusSeeOther)
}

// formOf fills the form from a calendar; yearly days are shown in year.
func formOf(c calendar.Config, year int) calendarForm {
	f := calendarForm{TimeZone: c.TimeZone, Days: map[string]bool{}, Japanese: c.JapaneseHolidays}
	for _, d := range c.WorkDays {
		f.Days[strings.ToLower(d.String()[:3])] = true
	}
	for _, s := range c.WorkHours {
		start, end, _ := strings.Cut(s.String(), "-")
		f.Hours = append(f.Hours, spanRow{Start: start, End: end})
	}
	rows := func(rs []calendar.DateRange) []dateRow {
		var out []dateRow
		for _, r := range rs {
			row := dateRow{Name: r.Name, Yearly: r.Yearly}
			from, to := r.From, r.To
			if r.Yearly {
				from.Year, to.Year = year, year
				if to.Month < from.Month || (to.Month == from.Month && to.Day < from.Day) {
					to.Year++ // crosses the new year
				}
			}
			row.From, row.To = from.String(), to.String()
			if row.To == row.From {
				row.To = ""
			}
			out = append(out, row)
		}
		return out
	}
	f.Holidays, f.WorkDates = rows(c.CompanyHolidays), rows(c.WorkDates)
	return f
}

func readCalendarForm(r *http.Request) calendarForm {
	g := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	f := calendarForm{TimeZone: g("tz"), Days: map[string]bool{}, Japanese: g("jp") != ""}
	for _, d := range r.PostForm["days"] {
		if d = strings.TrimSpace(d); d != "" {
			f.Days[d] = true
		}
	}
	for i := 0; i < calendarMaxRows; i++ {
		s, e := r.PostForm["h_start_"+strconv.Itoa(i)], r.PostForm["h_end_"+strconv.Itoa(i)]
		if s == nil && e == nil {
			break
		}
		f.Hours = append(f.Hours, spanRow{Start: g("h_start_" + strconv.Itoa(i)), End: g("h_end_" + strconv.Itoa(i))})
	}
	dates := func(prefix string) []dateRow {
		var out []dateRow
		for i := 0; i < calendarMaxRows; i++ {
			n := strconv.Itoa(i)
			if _, ok := r.PostForm[prefix+"_from_"+n]; !ok {
				break
			}
			out = append(out, dateRow{From: g(prefix + "_from_" + n), To: g(prefix + "_to_" + n), Name: g(prefix + "_name_" + n),
				Yearly: g(prefix+"_yearly_"+n) != ""})
		}
		return out
	}
	f.Holidays, f.WorkDates = dates("ch"), dates("wk")
	return f
}

// formRows maps the positions of the settings-file lists (blank rows of
// the form skipped) back to form rows, for placing problems.
type formRows struct{ hours, holidays, workDates []int }

var listIndexRe = regexp.MustCompile(`^(work_hours|company_holidays|work_dates)\[(\d+)\]`)

// field is the form field a problem of the calendar (located as in the
// settings file: "work_hours[1]", "company_holidays[0].dates") belongs to.
func (fr formRows) field(where string) string {
	if m := listIndexRe.FindStringSubmatch(where); m != nil {
		i, _ := strconv.Atoi(m[2])
		list, prefix := fr.hours, "h"
		switch m[1] {
		case "company_holidays":
			list, prefix = fr.holidays, "ch"
		case "work_dates":
			list, prefix = fr.workDates, "wk"
		}
		if i < len(list) {
			return prefix + strconv.Itoa(list[i])
		}
	}
	switch {
	case strings.HasPrefix(where, "time_zone"):
		return "tz"
	case strings.HasPrefix(where, "work_days"):
		return "days"
	case strings.HasPrefix(where, "work_hours"):
		return "hours"
	case strings.HasPrefix(where, "company_holidays"):
		return "holidays"
	case strings.HasPrefix(where, "work_dates"):
		return "workdates"
	}
	return "tz"
}

var timeOfDayRe = regexp.MustCompile(`^\d{1,2}:\d{2}$`)

// file turns the form into the settings-file form of the calendar; what
// the form itself gets wrong (a half-filled row, a date that is not one)
// goes to errs by field.
func (f calendarForm) file(errs map[string]string, T func(string, ...any) string) (calendar.FileConfig, formRows) {
	var fr formRows
	jp := f.Japanese
	fc := calendar.FileConfig{TimeZone: f.TimeZone, JapaneseHolidays: &jp, WorkDays: []string{}, WorkHours: []string{}}
	if f.TimeZone == "" {
		errs["tz"] = T("cal.err_tz_empty")
	}
	for _, d := range weekdayKeys {
		if f.Days[d] {
			fc.WorkDays = append(fc.WorkDays, d)
		}
	}
	for d := range f.Days {
		if !slices.Contains(weekdayKeys, d) {
			errs["days"] = T("cal.err_weekday", d)
		}
	}
	for i, s := range f.Hours {
		key := "h" + strconv.Itoa(i)
		switch {
		case s.Start == "" && s.End == "":
			continue
		case s.Start == "" || s.End == "":
			errs[key] = T("cal.err_half_period")
			continue
		case !timeOfDayRe.MatchString(s.Start) || !timeOfDayRe.MatchString(s.End):
			errs[key] = T("cal.err_time")
			continue
		}
		fr.hours = append(fr.hours, i)
		fc.WorkHours = append(fc.WorkHours, s.Start+"-"+s.End)
	}
	dates := func(rows []dateRow, prefix string, idx *[]int) []calendar.FileHoliday {
		var out []calendar.FileHoliday
		for i, row := range rows {
			key := prefix + strconv.Itoa(i)
			if row.From == "" && row.To == "" && row.Name == "" {
				continue
			}
			from, err := time.Parse(time.DateOnly, row.From)
			if err != nil {
				errs[key] = T("cal.err_from")
				continue
			}
			to := from
			if row.To != "" {
				if to, err = time.Parse(time.DateOnly, row.To); err != nil {
					errs[key] = T("cal.err_to")
					continue
				}
			}
			if to.Before(from) {
				errs[key] = T("cal.err_order")
				continue
			}
			format := time.DateOnly
			if row.Yearly {
				if to.Sub(from) >= 365*24*time.Hour {
					errs[key] = T("cal.err_yearly")
					continue
				}
				format = "01-02"
			}
			dates := from.Format(format)
			if !to.Equal(from) {
				dates += ".." + to.Format(format)
			}
			*idx = append(*idx, i)
			out = append(out, calendar.FileHoliday{Dates: dates, Name: row.Name})
		}
		return out
	}
	fc.CompanyHolidays = dates(f.Holidays, "ch", &fr.holidays)
	fc.WorkDates = dates(f.WorkDates, "wk", &fr.workDates)
	return fc, fr
}

// calendarYAML writes the calendar section of the SLA settings.
func calendarYAML(f calendar.FileConfig) string {
	var b strings.Builder
	q := func(s string) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		return strings.TrimSpace(buf.String())
	}
	list := func(xs []string, quote bool) string {
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = x
			if quote {
				out[i] = q(x)
			}
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	b.WriteString("calendar:\n")
	b.WriteString("  time_zone: " + q(f.TimeZone) + "\n")
	b.WriteString("  work_hours: " + list(f.WorkHours, true) + "\n")
	b.WriteString("  work_days: " + list(f.WorkDays, false) + "\n")
	b.WriteString("  japanese_holidays: " + strconv.FormatBool(f.JapaneseHolidays == nil || *f.JapaneseHolidays) + "\n")
	days := func(key string, hs []calendar.FileHoliday) {
		if len(hs) == 0 {
			return
		}
		b.WriteString("  " + key + ":\n")
		for _, h := range hs {
			b.WriteString("    - {dates: " + q(h.Dates))
			if h.Name != "" {
				b.WriteString(", name: " + q(h.Name))
			}
			b.WriteString("}\n")
		}
	}
	days("company_holidays", f.CompanyHolidays)
	days("work_dates", f.WorkDates)
	return b.String()
}

var topLevelCalendarRe = regexp.MustCompile(`^calendar\s*:`)

// replaceCalendar puts the calendar section into an SLA settings document
// in place of the one it has (from its "calendar:" line to the next
// top-level line), or first when it has none.
func replaceCalendar(doc, section string) string {
	lines := strings.SplitAfter(doc, "\n")
	start := -1
	for i, l := range lines {
		if topLevelCalendarRe.MatchString(l) {
			start = i
			break
		}
	}
	if start < 0 {
		return section + doc
	}
	end := start + 1
	for end < len(lines) {
		l := lines[end]
		if t := strings.TrimRight(l, "\r\n"); t != "" && t[0] != ' ' && t[0] != '\t' {
			break // the next top-level key or comment
		}
		end++
	}
	// Keep a blank line that separated the section from the next one.
	for end > start+1 && strings.TrimSpace(lines[end-1]) == "" {
		end--
	}
	return strings.Join(lines[:start], "") + section + strings.Join(lines[end:], "")
}
