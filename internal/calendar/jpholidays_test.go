package calendar

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rickar/cal/v2/jp"
)

// officialHolidays are the national holidays published by the Cabinet Office
// (内閣府「国民の祝日について」, https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html).
// The Cabinet Office writes both 振替休日 and 国民の休日 as 「休日」.
var officialHolidays = map[int][]struct {
	date, name string
}{
	2024: {
		{"2024-01-01", "元日"},
		{"2024-01-08", "成人の日"},
		{"2024-02-11", "建国記念の日"},
		{"2024-02-12", "振替休日"},
		{"2024-02-23", "天皇誕生日"},
		{"2024-03-20", "春分の日"},
		{"2024-04-29", "昭和の日"},
		{"2024-05-03", "憲法記念日"},
		{"2024-05-04", "みどりの日"},
		{"2024-05-05", "こどもの日"},
		{"2024-05-06", "振替休日"},
		{"2024-07-15", "海の日"},
		{"2024-08-11", "山の日"},
		{"2024-08-12", "振替休日"},
		{"2024-09-16", "敬老の日"},
		{"2024-09-22", "秋分の日"},
		{"2024-09-23", "振替休日"},
		{"2024-10-14", "スポーツの日"},
		{"2024-11-03", "文化の日"},
		{"2024-11-04", "振替休日"},
		{"2024-11-23", "勤労感謝の日"},
	},
	2025: {
		{"2025-01-01", "元日"},
		{"2025-01-13", "成人の日"},
		{"2025-02-11", "建国記念の日"},
		{"2025-02-23", "天皇誕生日"},
		{"2025-02-24", "振替休日"},
		{"2025-03-20", "春分の日"},
		{"2025-04-29", "昭和の日"},
		{"2025-05-03", "憲法記念日"},
		{"2025-05-04", "みどりの日"},
		{"2025-05-05", "こどもの日"},
		{"2025-05-06", "振替休日"},
		{"2025-07-21", "海の日"},
		{"2025-08-11", "山の日"},
		{"2025-09-15", "敬老の日"},
		{"2025-09-23", "秋分の日"},
		{"2025-10-13", "スポーツの日"},
		{"2025-11-03", "文化の日"},
		{"2025-11-23", "勤労感謝の日"},
		{"2025-11-24", "振替休日"},
	},
	2026: {
		{"2026-01-01", "元日"},
		{"2026-01-12", "成人の日"},
		{"2026-02-11", "建国記念の日"},
		{"2026-02-23", "天皇誕生日"},
		{"2026-03-20", "春分の日"},
		{"2026-04-29", "昭和の日"},
		{"2026-05-03", "憲法記念日"},
		{"2026-05-04", "みどりの日"},
		{"2026-05-05", "こどもの日"},
		{"2026-05-06", "振替休日"},
		{"2026-07-20", "海の日"},
		{"2026-08-11", "山の日"},
		{"2026-09-21", "敬老の日"},
		{"2026-09-22", "国民の休日"},
		{"2026-09-23", "秋分の日"},
		{"2026-10-12", "スポーツの日"},
		{"2026-11-03", "文化の日"},
		{"2026-11-23", "勤労感謝の日"},
	},
}

func TestHolidays_CabinetOffice(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, DefaultConfig())
	for year, want := range officialHolidays {
		t.Run(fmt.Sprint(year), func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, h := range c.Holidays(year) {
				got = append(got, h.Date.Format(time.DateOnly)+" "+h.Name)
				if h.Company {
					t.Errorf("%s: Company = true with no company holidays", h.Date)
				}
				if h.Date.Location() != c.Location() || h.Date.Hour() != 0 {
					t.Errorf("%s: Date is not midnight in %s", h.Date, c.Location())
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d holidays, want %d:\n%v", len(got), len(want), got)
			}
			for i, w := range want {
				if i >= len(got) || got[i] != w.date+" "+w.name {
					t.Errorf("holiday %d = %v, want %s %s", i, at(got, i), w.date, w.name)
				}
				day := mustTime(t, c, w.date+" 12:00")
				if ok, name := c.IsHoliday(day); !ok || name != w.name {
					t.Errorf("IsHoliday(%s) = %v, %q; want true, %q", w.date, ok, name, w.name)
				}
			}
		})
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// TestHolidays_LibraryCorrections pins the dates where rickar/cal's jp
// package is wrong and our layer corrects it (see jpholidays.go).
func TestHolidays_LibraryCorrections(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, DefaultConfig())
	tests := []struct {
		date string
		want string // "" for a day that is not a holiday
	}{
		{"2020-08-10", "山の日"}, // Olympics
		{"2020-08-11", ""},
		{"2021-08-08", "山の日"},
		{"2021-08-09", "振替休日"},
		{"2021-08-11", ""},
		{"2019-12-23", ""},      // no Emperor's Birthday in 2019
		{"2019-04-30", "国民の休日"}, // between 昭和の日 and 天皇の即位の日
		{"2019-05-01", "天皇の即位の日"},
		{"2019-05-02", "国民の休日"},
		{"2019-05-06", "振替休日"}, // こどもの日 on Sunday, 05-03..05-05 taken
		{"2019-10-14", "体育の日"},
		{"2020-07-24", "スポーツの日"},
		{"2032-09-21", "国民の休日"},
		{"2037-09-22", "国民の休日"}, // beyond the library's hard-coded list
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			t.Parallel()
			ok, name := c.IsHoliday(mustTime(t, c, tt.date+" 12:00"))
			if ok != (tt.want != "") || name != tt.want {
				t.Errorf("IsHoliday = %v, %q; want %q", ok, name, tt.want)
			}
		})
	}
}

// TestHolidays_CitizensRuleMatchesLibrary checks that article 3(3) finds
// every citizens' holiday the library hard-codes, and no other in September.
func TestHolidays_CitizensRuleMatchesLibrary(t *testing.T) {
	t.Parallel()
	for year := 2009; year <= 2032; year++ {
		h := *jp.NationalHolidayBetweenRespectForTheAgedDayAndAutumnalEquinoxDay
		actual, _ := h.Calc(year)
		var want Date
		if !actual.IsZero() {
			want = dateOf(actual)
		}
		var got Date
		for day, name := range nationalHolidays(year) {
			if name == citizensHolidayName && day.Month == time.September {
				got = day
			}
		}
		if got != want {
			t.Errorf("%d: citizens' holiday in September = %v, library says %v", year, got, want)
		}
	}
}

func TestHolidays_AllLibraryHolidaysNamed(t *testing.T) {
	t.Parallel()
	for _, h := range jp.Holidays {
		if _, ok := holidayNames[h]; !ok && !slices.Contains(ruleHolidays, h) {
			t.Errorf("no Japanese name for %q", h.Name)
		}
	}
}

func TestHolidays_Concurrent(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, DefaultConfig())
	done := make(chan struct{})
	for y := 2030; y < 2040; y++ {
		go func() {
			defer func() { done <- struct{}{} }()
			c.Holidays(y)
			c.IsHoliday(time.Date(y, 3, 20, 12, 0, 0, 0, c.Location()))
		}()
	}
	for range 10 {
		<-done
	}
}
