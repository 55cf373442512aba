package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow"
)

const layout = "2006-01-02 15:04"

func newCalendar(t testing.TB, cfg Config) *Calendar {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// mustTime parses "2026-01-02 15:04" in the calendar's zone.
func mustTime(t testing.TB, c *Calendar, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation(layout, s, c.Location())
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// lunchConfig is a JST calendar with a lunch break and 年末年始.
func lunchConfig() Config {
	cfg := DefaultConfig()
	cfg.WorkHours = []Span{{9 * time.Hour, 12 * time.Hour}, {13 * time.Hour, 18 * time.Hour}}
	cfg.CompanyHolidays = []DateRange{{
		From: Date{Month: 12, Day: 29}, To: Date{Month: 1, Day: 3}, Yearly: true, Name: "年末年始",
	}}
	return cfg
}

func newYorkConfig() Config {
	return Config{
		TimeZone:  "America/New_York",
		WorkHours: []Span{{Start: 9 * time.Hour, End: 17 * time.Hour}},
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	jst := newCalendar(t, DefaultConfig())
	lunch := newCalendar(t, lunchConfig())
	ny := newCalendar(t, newYorkConfig())
	tests := []struct {
		name  string
		c     *Calendar
		start string
		d     time.Duration
		want  string
	}{
		{"HQL Friday 17:30 + 1h is Monday 09:30", jst, "2026-03-06 17:30", time.Hour, "2026-03-09 09:30"},
		{"HQL before a holiday Monday is Tuesday", jst, "2026-01-09 17:30", time.Hour, "2026-01-13 09:30"}, // 01-12 成人の日
		{"inside hours", jst, "2026-03-04 10:00", 2 * time.Hour, "2026-03-04 12:00"},
		{"ends at closing, not next opening", jst, "2026-03-06 17:00", time.Hour, "2026-03-06 18:00"},
		{"before opening", jst, "2026-03-04 07:00", time.Hour, "2026-03-04 10:00"},
		{"after closing", jst, "2026-03-04 21:00", time.Hour, "2026-03-05 10:00"},
		{"start on Saturday", jst, "2026-03-07 11:00", 30 * time.Minute, "2026-03-09 09:30"},
		{"start on a holiday", jst, "2026-02-11 10:00", time.Hour, "2026-02-12 10:00"}, // 建国記念の日
		{"Golden Week", jst, "2026-05-01 17:00", 2 * time.Hour, "2026-05-07 10:00"},
		{"Silver Week", jst, "2026-09-18 17:00", 2 * time.Hour, "2026-09-24 10:00"}, // 09-21..23
		{"zero duration", jst, "2026-03-07 11:00", 0, "2026-03-07 11:00"},
		{"lunch break is skipped", lunch, "2026-03-04 11:30", time.Hour, "2026-03-04 13:30"},
		{"start during lunch", lunch, "2026-03-04 12:15", time.Hour, "2026-03-04 14:00"},
		{"morning ends exactly at 12:00", lunch, "2026-03-04 11:00", time.Hour, "2026-03-04 12:00"},
		{"年末年始", lunch, "2026-12-28 17:00", 2 * time.Hour, "2027-01-04 10:00"},
		{"start inside 年末年始", lunch, "2026-12-30 10:00", time.Hour, "2027-01-04 10:00"},
		{"many days", jst, "2026-03-02 09:00", 5 * 9 * time.Hour, "2026-03-06 18:00"},
		{"New York across spring DST", ny, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"New York across autumn DST", ny, "2026-10-30 16:30", time.Hour, "2026-11-02 09:30"},
		{"New York has no Japanese holidays", ny, "2026-05-04 09:00", time.Hour, "2026-05-04 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start, want := mustTime(t, tt.c, tt.start), mustTime(t, tt.c, tt.want)
			got := tt.c.Add(start, tt.d)
			if !got.Equal(want) {
				t.Errorf("Add(%s, %v) = %s, want %s", tt.start, tt.d, got.Format(layout), tt.want)
			}
			if tt.d > 0 {
				if b := tt.c.Between(start, got); b != tt.d {
					t.Errorf("Between(start, Add(start, d)) = %v, want %v", b, tt.d)
				}
			}
		})
	}
}

func TestAdd_OtherZoneInput(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, DefaultConfig())
	// Friday 2026-03-06 17:30 JST given as UTC.
	start := time.Date(2026, 3, 6, 8, 30, 0, 0, time.UTC)
	got := c.Add(start, time.Hour)
	if want := mustTime(t, c, "2026-03-09 09:30"); !got.Equal(want) || got.Location() != c.Location() {
		t.Errorf("Add = %s, want %s in %s", got, want, c.Location())
	}
}

func TestAddDays(t *testing.T) {
	t.Parallel()
	jst := newCalendar(t, DefaultConfig())
	lunch := newCalendar(t, lunchConfig())
	ny := newCalendar(t, newYorkConfig())
	tests := []struct {
		name  string
		c     *Calendar
		start string
		n     int
		want  string
	}{
		{"SQL 1 business day, same time next day", jst, "2026-03-04 10:00", 1, "2026-03-05 10:00"},
		{"Friday to Monday", jst, "2026-03-06 17:30", 1, "2026-03-09 17:30"},
		{"before a holiday Monday", jst, "2026-01-09 10:00", 1, "2026-01-13 10:00"},
		{"Saturday counts to Monday's closing", jst, "2026-03-07 11:00", 1, "2026-03-09 18:00"},
		{"at opening counts to closing", jst, "2026-03-09 09:00", 1, "2026-03-09 18:00"},
		{"before opening counts to closing", jst, "2026-03-09 08:00", 1, "2026-03-09 18:00"},
		{"after closing counts to next closing", jst, "2026-03-09 19:00", 1, "2026-03-10 18:00"},
		{"start on a holiday", jst, "2026-11-03 10:00", 1, "2026-11-04 18:00"}, // 文化の日
		{"MQL 2 business days", jst, "2026-03-04 15:00", 2, "2026-03-06 15:00"},
		{"2 days over 年末年始", lunch, "2026-12-25 15:00", 2, "2027-01-04 15:00"},
		{"2 days from inside 年末年始", lunch, "2026-12-31 15:00", 2, "2027-01-05 18:00"},
		{"during lunch keeps the end of the morning", lunch, "2026-03-04 12:30", 1, "2026-03-05 12:00"},
		{"zero days", jst, "2026-03-07 11:00", 0, "2026-03-07 11:00"},
		{"New York keeps the wall clock over DST", ny, "2026-03-06 10:00", 1, "2026-03-09 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.c.AddDays(mustTime(t, tt.c, tt.start), tt.n)
			if want := mustTime(t, tt.c, tt.want); !got.Equal(want) {
				t.Errorf("AddDays(%s, %d) = %s, want %s", tt.start, tt.n, got.Format(layout), tt.want)
			}
		})
	}
}

// TestAddDays_IsAddOfFullDays checks the definition: with the same hours
// every day, n business days are n working days' worth of business time.
func TestAddDays_IsAddOfFullDays(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, lunchConfig())
	day := 8 * time.Hour
	start := mustTime(t, c, "2026-12-20 00:00")
	for i := 0; i < 14*24*4; i++ { // every quarter hour for two weeks
		s := start.Add(time.Duration(i) * 15 * time.Minute)
		for n := 1; n <= 3; n++ {
			if got, want := c.AddDays(s, n), c.Add(s, time.Duration(n)*day); !got.Equal(want) {
				t.Fatalf("AddDays(%s, %d) = %s, Add = %s", s.Format(layout), n, got.Format(layout), want.Format(layout))
			}
		}
	}
}

func TestBetween(t *testing.T) {
	t.Parallel()
	jst := newCalendar(t, DefaultConfig())
	lunch := newCalendar(t, lunchConfig())
	ny := newCalendar(t, newYorkConfig())
	tests := []struct {
		name string
		c    *Calendar
		a, b string
		want time.Duration
	}{
		{"same day", jst, "2026-03-04 10:00", "2026-03-04 12:30", 150 * time.Minute},
		{"over a weekend", jst, "2026-03-06 17:30", "2026-03-09 09:30", time.Hour},
		{"outside hours only", jst, "2026-03-06 18:00", "2026-03-09 09:00", 0},
		{"reversed is negative", jst, "2026-03-09 09:30", "2026-03-06 17:30", -time.Hour},
		{"lunch not counted", lunch, "2026-03-04 11:00", "2026-03-04 14:00", 2 * time.Hour},
		{"a full week", lunch, "2026-03-02 00:00", "2026-03-09 00:00", 5 * 8 * time.Hour},
		{"年末年始 not counted", lunch, "2026-12-28 17:00", "2027-01-04 10:00", 2 * time.Hour},
		{"DST day in New York", ny, "2026-03-08 00:00", "2026-03-10 00:00", 8 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.Between(mustTime(t, tt.c, tt.a), mustTime(t, tt.c, tt.b)); got != tt.want {
				t.Errorf("Between = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBetween_InverseOfAdd sweeps starts and durations across holidays,
// lunch breaks and 年末年始.
func TestBetween_InverseOfAdd(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{lunchConfig(), newYorkConfig()} {
		c := newCalendar(t, cfg)
		start := mustTime(t, c, "2026-12-24 00:00")
		for i := 0; i < 10*24*3; i++ { // every 20 minutes for ten days
			a := start.Add(time.Duration(i) * 20 * time.Minute)
			for _, d := range []time.Duration{time.Minute, 45 * time.Minute, time.Hour, 8 * time.Hour, 30 * time.Hour} {
				b := c.Add(a, d)
				if got := c.Between(a, b); got != d {
					t.Fatalf("%s: Between(%s, Add(…, %v) = %s) = %v", cfg.TimeZone, a.Format(layout), d, b.Format(layout), got)
				}
				if !c.IsBusinessTime(b.Add(-time.Nanosecond)) {
					t.Fatalf("%s: Add(%s, %v) = %s does not end business time", cfg.TimeZone, a.Format(layout), d, b.Format(layout))
				}
			}
		}
	}
}

func TestIsBusinessTime(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, lunchConfig())
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-03-04 08:59", false},
		{"2026-03-04 09:00", true},
		{"2026-03-04 11:59", true},
		{"2026-03-04 12:00", false}, // lunch
		{"2026-03-04 13:00", true},
		{"2026-03-04 18:00", false},
		{"2026-03-07 10:00", false}, // Saturday
		{"2026-03-20 10:00", false}, // 春分の日
		{"2026-12-29 10:00", false}, // 年末年始
		{"2027-01-04 10:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			t.Parallel()
			if got := c.IsBusinessTime(mustTime(t, c, tt.at)); got != tt.want {
				t.Errorf("IsBusinessTime = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCompanyHolidays(t *testing.T) {
	t.Parallel()
	cfg := lunchConfig()
	cfg.CompanyHolidays = append(cfg.CompanyHolidays,
		DateRange{From: Date{2026, 8, 12}, To: Date{2026, 8, 14}, Name: "夏季休暇"},
		DateRange{From: Date{Month: 5, Day: 1}, To: Date{Month: 5, Day: 1}, Yearly: true},
	)
	c := newCalendar(t, cfg)
	tests := []struct {
		date string
		want string
	}{
		{"2026-01-01", "元日"}, // the national name wins
		{"2026-01-02", "年末年始"},
		{"2026-01-04", ""},
		{"2026-12-28", ""},
		{"2026-12-29", "年末年始"},
		{"2026-08-13", "夏季休暇"},
		{"2027-08-13", ""},
		{"2027-05-01", "休業日"},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			t.Parallel()
			ok, name := c.IsHoliday(mustTime(t, c, tt.date+" 00:00"))
			if ok != (tt.want != "") || name != tt.want {
				t.Errorf("IsHoliday = %v, %q; want %q", ok, name, tt.want)
			}
		})
	}

	var jan []string
	for _, h := range c.Holidays(2026) {
		if h.Date.Month() == time.January && h.Date.Day() <= 3 {
			jan = append(jan, h.Date.Format("01-02")+" "+h.Name+map[bool]string{true: " (company)"}[h.Company])
		}
	}
	want := "01-01 元日 | 01-01 年末年始 (company) | 01-02 年末年始 (company) | 01-03 年末年始 (company)"
	if got := strings.Join(jan, " | "); got != want {
		t.Errorf("Holidays(2026) in January = %s, want %s", got, want)
	}
}

func TestNew_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   Config
		where string
		msg   string
	}{
		{"time zone", Config{TimeZone: "Asia/Tokio"}, "time_zone", `unknown time zone "Asia/Tokio"`},
		{"overlap", Config{WorkHours: []Span{{13 * time.Hour, 18 * time.Hour}, {9 * time.Hour, 14 * time.Hour}}},
			"work_hours[0]", "13:00-18:00 overlaps 09:00-14:00"},
		{"reversed span", Config{WorkHours: []Span{{18 * time.Hour, 9 * time.Hour}}}, "work_hours[0]", "ends before it starts"},
		{"past midnight", Config{WorkHours: []Span{{20 * time.Hour, 25 * time.Hour}}}, "work_hours[0]", "outside 00:00-24:00"},
		{"no hours", Config{WorkHours: []Span{}}, "work_hours", "at least one"},
		{"no days", Config{WorkDays: []time.Weekday{}}, "work_days", "at least one"},
		{"bad weekday", Config{WorkDays: []time.Weekday{9}}, "work_days[0]", "not a weekday"},
		{"bad date", Config{CompanyHolidays: []DateRange{{From: Date{2026, 2, 30}, To: Date{2026, 3, 1}}}},
			"company_holidays[0]", "2026-02-30 is not a date"},
		{"dated range reversed", Config{CompanyHolidays: []DateRange{{From: Date{2026, 5, 2}, To: Date{2026, 5, 1}}}},
			"company_holidays[0]", "ends before it starts"},
		{"yearly with year", Config{CompanyHolidays: []DateRange{{From: Date{2026, 5, 2}, To: Date{2026, 5, 2}, Yearly: true}}},
			"company_holidays[0]", "must not carry a year"},
		{"closed all year", Config{CompanyHolidays: []DateRange{{From: Date{Month: 3, Day: 1}, To: Date{Month: 2, Day: 28}, Yearly: true}}},
			"company_holidays", "every day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			checkInvalid(t, err, tt.where, tt.msg)
		})
	}
}

// checkInvalid asserts err is EINVALID with a detail at where containing msg.
func checkInvalid(t *testing.T, err error, where, msg string) {
	t.Helper()
	var e *leadflow.Error
	if !errors.As(err, &e) || e.Code != leadflow.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
	for _, d := range e.Details {
		if d.Where == where && strings.Contains(d.Message, msg) {
			if !strings.Contains(e.Message, "invalid business calendar") {
				t.Errorf("message %q does not say what is invalid", e.Message)
			}
			return
		}
	}
	t.Errorf("details %+v lack %s: %s", e.Details, where, msg)
}

func TestNew_Defaults(t *testing.T) {
	t.Parallel()
	c := newCalendar(t, Config{})
	if c.Location().String() != "Asia/Tokyo" {
		t.Errorf("time zone = %s", c.Location())
	}
	if !c.IsBusinessTime(mustTime(t, c, "2026-03-04 09:00")) || c.IsBusinessTime(mustTime(t, c, "2026-03-04 18:00")) {
		t.Error("default hours are not 09:00-18:00")
	}
	if ok, _ := c.IsHoliday(mustTime(t, c, "2026-01-01 10:00")); ok {
		t.Error("a zero Config has national holidays; JapaneseHolidays is opt-in outside DefaultConfig")
	}
}
