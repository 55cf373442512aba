package web

import "regexp"

// calendarMessages turn the business calendar's checks (internal/calendar,
// English, also returned by the API) into the UI's language: each pattern
// captures the message's values, and the catalog key words them. A message
// no pattern knows is shown as it is, behind cal.err_field.
var calendarMessages = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^unknown time zone "(.*)"; use an IANA name such as Asia/Tokyo$`), "cal.msg_zone"},
	{regexp.MustCompile(`^at least one working period is required$`), "cal.msg_no_hours"},
	{regexp.MustCompile(`^at least one working weekday is required$`), "cal.msg_no_days"},
	{regexp.MustCompile(`^yearly company holidays close every day of the year$`), "cal.msg_all_closed"},
	{regexp.MustCompile(`^"(.*)" is not a period; write it as 09:00-18:00$`), "cal.msg_period"},
	{regexp.MustCompile(`^"(.*)" is not a time of day; write it as 09:00$`), "cal.msg_time"},
	{regexp.MustCompile(`^"(.*)" is not a weekday; use mon, tue, … or 月, 火, …$`), "cal.msg_weekday"},
	{regexp.MustCompile(`^(\d+) is not a weekday$`), "cal.msg_weekday"},
	{regexp.MustCompile(`^"(.*)" is not a date or range; write 12-29\.\.01-03 \(every year\) or 2026-05-01 \(once\)$`), "cal.msg_date"},
	{regexp.MustCompile(`^"(.*)" mixes a yearly date with a dated one; give both ends a year or neither$`), "cal.msg_mixed"},
	{regexp.MustCompile(`^yearly range (.*) must not carry a year$`), "cal.msg_yearly_year"},
	{regexp.MustCompile(`^range (.*) needs a year, or must be yearly$`), "cal.msg_needs_year"},
	{regexp.MustCompile(`^(?:range )?"?(.*?)"? ends before it starts$`), "cal.msg_backwards"},
	{regexp.MustCompile(`^(.*) is outside 00:00-24:00$`), "cal.msg_outside_day"},
	{regexp.MustCompile(`^(.*) overlaps (.*)$`), "cal.msg_overlap"},
	{regexp.MustCompile(`^(.*) is not a date$`), "cal.msg_not_date"},
}

// calendarMessage is msg of the calendar's checks in the locale's language
// (in English, the check's own words).
func calendarMessage(l *locale, msg string) string {
	if l.Lang == "en" {
		return l.T("cal.err_field", msg)
	}
	for _, m := range calendarMessages {
		if sub := m.re.FindStringSubmatch(msg); sub != nil {
			args := make([]any, len(sub)-1)
			for i, s := range sub[1:] {
				args[i] = s
			}
			return l.T(m.key, args...)
		}
	}
	return l.T("cal.err_field", msg)
}
