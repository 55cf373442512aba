package web

import (
	"errors"
	"strings"
	"testing"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
)

// Every check of the business calendar reaches the Japanese form in
// Japanese: the real messages of internal/calendar, not copies of them,
// so a reworded check that no pattern knows any more fails here.
func TestCalendarMessagesInJapanese(t *testing.T) {
	t.Parallel()
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	ja, en := &locale{Lang: "ja", msgs: c.msgs["ja"]}, &locale{Lang: "en", msgs: c.msgs["en"]}
	no := false
	bad := []calendar.FileConfig{
		{TimeZone: "Mars/Olympus", WorkHours: []string{"9時-18時", "25:00-26:00", "18:00-09:00", "09:00-12:00", "11:00-13:00"},
			WorkDays: []string{"mon", "日曜じゃない"}, JapaneseHolidays: &no},
		{WorkHours: []string{}, WorkDays: []string{}},
		{WorkHours: []string{"09:00-18:00"}, WorkDays: []string{"mon"}, CompanyHolidays: []calendar.FileHoliday{
			{Dates: "いつか"}, {Dates: "2026-05-01..06-01"}, {Dates: "2026-05-03..2026-05-01"},
			{Dates: "02-30"}, {Dates: "01-01..12-31"}}},
	}
	seen := 0
	for _, fc := range bad {
		_, err := calendar.ParseConfig(fc)
		var le *leadflow.Error
		if !errors.As(err, &le) || len(le.Details) == 0 {
			t.Fatalf("%+v: %v, want details", fc, err)
		}
		for _, d := range le.Details {
			seen++
			got := calendarMessage(ja, d.Message)
			if strings.HasPrefix(got, strings.TrimSuffix(ja.T("cal.err_field", ""), " ")) || got == d.Message {
				t.Errorf("%s: %q is not translated (%q)", d.Where, d.Message, got)
			}
			if en := calendarMessage(en, d.Message); en != d.Message {
				t.Errorf("%s: English %q, want the check's own %q", d.Where, en, d.Message)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("only %d messages checked", seen)
	}
}
