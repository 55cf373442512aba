package calendar

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

const settingsYAML = `
time_zone: Asia/Tokyo
work_hours: ["09:00-12:00", "13:00-18:00"]
work_days: [mon, Tuesday, 水, 木曜日, FRI]
company_holidays:
  - dates: "12-29..01-03"
    name: 年末年始
  - dates: "2026-08-12..2026-08-14"
    name: 夏季休暇
`

func TestParseConfig_YAML(t *testing.T) {
	t.Parallel()
	var f FileConfig
	if err := yaml.Unmarshal([]byte(settingsYAML), &f); err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	want := lunchConfig()
	want.CompanyHolidays = append(want.CompanyHolidays,
		DateRange{From: Date{2026, 8, 12}, To: Date{2026, 8, 14}, Name: "夏季休暇"})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseConfig =\n%+v\nwant\n%+v", got, want)
	}

	// The file form round-trips through JSON.
	b, err := json.Marshal(got.File())
	if err != nil {
		t.Fatal(err)
	}
	var f2 FileConfig
	if err := json.Unmarshal(b, &f2); err != nil {
		t.Fatal(err)
	}
	again, err := ParseConfig(f2)
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("round trip via %s = %+v, %v", b, again, err)
	}
}

func TestParseConfig_Defaults(t *testing.T) {
	t.Parallel()
	got, err := ParseConfig(FileConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, DefaultConfig()) {
		t.Errorf("ParseConfig(empty) = %+v, want DefaultConfig", got)
	}
	off := false
	got, err = ParseConfig(FileConfig{JapaneseHolidays: &off})
	if err != nil || got.JapaneseHolidays {
		t.Errorf("japanese_holidays: false gave %+v, %v", got, err)
	}
}

func TestParseConfig_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		where string
		msg   string
	}{
		{"time zone", `time_zone: JST`, "time_zone", `unknown time zone "JST"`},
		{"span syntax", `work_hours: ["9-18"]`, "work_hours[0]", `"9" is not a time of day`},
		{"span order", `work_hours: ["18:00-09:00"]`, "work_hours[0]", "ends before it starts"},
		{"overlap", `work_hours: ["09:00-13:00", "12:00-18:00"]`, "work_hours[1]", "overlaps 09:00-13:00"},
		{"minutes", `work_hours: ["09:60-18:00"]`, "work_hours[0]", "not a time of day"},
		{"weekday", `work_days: [mon, funday]`, "work_days[1]", `"funday" is not a weekday`},
		{"no weekdays", `work_days: []`, "work_days", "at least one"},
		{"range syntax", `company_holidays: [{dates: "12/29-1/3"}]`, "company_holidays[0].dates", "write 12-29..01-03"},
		{"mixed range", `company_holidays: [{dates: "2026-12-29..01-03"}]`, "company_holidays[0].dates", "mixes a yearly date"},
		{"bad day", `company_holidays: [{dates: "02-30"}]`, "company_holidays[0].dates", "02-30 is not a date"},
		{"reversed", `company_holidays: [{dates: "2026-05-06..2026-05-01"}]`, "company_holidays[0].dates", "ends before it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var f FileConfig
			if err := yaml.Unmarshal([]byte(tt.yaml), &f); err != nil {
				t.Fatal(err)
			}
			_, err := ParseConfig(f)
			checkInvalid(t, err, tt.where, tt.msg)
		})
	}
}

func TestParseSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Span
	}{
		{"09:00-18:00", Span{9 * time.Hour, 18 * time.Hour}},
		{"09:30 - 12:00", Span{9*time.Hour + 30*time.Minute, 12 * time.Hour}},
		{"13:00–24:00", Span{13 * time.Hour, 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSpan(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseSpan = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseDateRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want DateRange
	}{
		{"12-29..01-03", DateRange{From: Date{0, 12, 29}, To: Date{0, 1, 3}, Yearly: true}},
		{"02-29", DateRange{From: Date{0, 2, 29}, To: Date{0, 2, 29}, Yearly: true}},
		{"2026-05-01", DateRange{From: Date{2026, 5, 1}, To: Date{2026, 5, 1}}},
		{" 2026-08-12 .. 2026-08-14 ", DateRange{From: Date{2026, 8, 12}, To: Date{2026, 8, 14}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDateRange(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseDateRange = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
