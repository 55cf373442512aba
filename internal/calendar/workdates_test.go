package calendar

import (
	"errors"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

// TestWorkDates: a working Saturday and a holiday worked are business
// days; the dates are listed; the settings-file form reads and writes
// them; a bad date is located.
func TestWorkDates(t *testing.T) {
	cfg, err := ParseConfig(FileConfig{WorkDates: []FileHoliday{
		{Dates: "2026-10-03", Name: "土曜出勤"},
		{Dates: "2026-11-03"}, // 文化の日, worked
	}, CompanyHolidays: []FileHoliday{{Dates: "12-29..01-03", Name: "年末年始"}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tokyo := c.Location()
	for _, tc := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 10, 3, 10, 0, 0, 0, tokyo), true},   // the working Saturday
		{time.Date(2026, 10, 10, 10, 0, 0, 0, tokyo), false}, // another Saturday
		{time.Date(2026, 11, 3, 10, 0, 0, 0, tokyo), true},   // a national holiday worked
		{time.Date(2026, 11, 3, 20, 0, 0, 0, tokyo), false},  // outside working hours
		{time.Date(2026, 12, 30, 10, 0, 0, 0, tokyo), false}, // 年末年始
	} {
		if got := c.IsBusinessTime(tc.at); got != tc.open {
			t.Errorf("IsBusinessTime(%s) = %v, want %v", tc.at, got, tc.open)
		}
	}
	// Friday 17:30 + 1h of business time ends on the working Saturday.
	if got, want := c.Add(time.Date(2026, 10, 2, 17, 30, 0, 0, tokyo), time.Hour), time.Date(2026, 10, 3, 9, 30, 0, 0, tokyo); !got.Equal(want) {
		t.Errorf("AddBusiness over the working Saturday = %s, want %s", got, want)
	}
	wd := c.WorkDates(2026)
	if len(wd) != 2 || wd[0].Name != "土曜出勤" || wd[1].Name != defaultWorkDateName || wd[1].Date.Day() != 3 {
		t.Errorf("WorkDates = %+v", wd)
	}
	if f := cfg.File(); len(f.WorkDates) != 2 || f.WorkDates[0].Dates != "2026-10-03" {
		t.Errorf("File() = %+v", f.WorkDates)
	}
	_, err = ParseConfig(FileConfig{WorkDates: []FileHoliday{{Dates: "2026-02-30"}}})
	var le *leadflow.Error
	if err == nil || !errors.As(err, &le) || len(le.Details) != 1 || le.Details[0].Where != "work_dates[0].dates" {
		t.Errorf("bad work date: %v", err)
	}
}
