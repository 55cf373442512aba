package calendar_test

import (
	"fmt"
	"time"

	"github.com/leadflow/leadflow/internal/calendar"
)

// An HQL must be touched within 1 business hour, an SQL within 1 business
// day. Both arrive on Friday 9 January 2026 at 17:30 in Tokyo; Monday the
// 12th is 成人の日.
func Example() {
	cfg, err := calendar.ParseConfig(calendar.FileConfig{
		TimeZone:        "Asia/Tokyo",
		WorkHours:       []string{"09:00-12:00", "13:00-18:00"},
		CompanyHolidays: []calendar.FileHoliday{{Dates: "12-29..01-03", Name: "年末年始"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	cal, err := calendar.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	created := time.Date(2026, 1, 9, 17, 30, 0, 0, cal.Location())
	_, holiday := cal.IsHoliday(time.Date(2026, 1, 12, 0, 0, 0, 0, cal.Location()))
	fmt.Println("Monday:", holiday)
	fmt.Println("HQL due:", cal.Add(created, time.Hour).Format("Mon 2006-01-02 15:04"))
	fmt.Println("SQL due:", cal.AddDays(created, 1).Format("Mon 2006-01-02 15:04"))
	touched := time.Date(2026, 1, 13, 9, 10, 0, 0, cal.Location())
	fmt.Println("first touch after:", cal.Between(created, touched))
	// Output:
	// Monday: 成人の日
	// HQL due: Tue 2026-01-13 09:30
	// SQL due: Tue 2026-01-13 17:30
	// first touch after: 40m0s
}
