package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
	"github.com/leadflow/leadflow/internal/store/storetest"
)

func calendarFormValues() url.Values {
	return url.Values{
		"tz":        {"Asia/Tokyo"},
		"days":      {"mon", "tue", "wed", "thu", "fri"},
		"h_start_0": {"09:00"}, "h_end_0": {"12:00"},
		"h_start_1": {"13:00"}, "h_end_1": {"18:00"},
		"h_start_2": {""}, "h_end_2": {""},
		"jp":        {"1"},
		"ch_from_0": {"2026-12-29"}, "ch_to_0": {"2027-01-03"}, "ch_yearly_0": {"1"}, "ch_name_0": {"年末年始"},
		"ch_from_1": {"2026-08-13"}, "ch_to_1": {"2026-08-15"}, "ch_name_1": {"夏季休業"},
		"ch_from_2": {""}, "ch_to_2": {""}, "ch_name_2": {""},
		"wk_from_0": {"2026-10-03"}, "wk_to_0": {""}, "wk_name_0": {"土曜出勤"},
		"wk_from_1": {""}, "wk_to_1": {""}, "wk_name_1": {""},
	}
}

// TestSettingsCalendar: the business calendar form (admin only, like the
// YAML editor) shows the calendar in force with the year's closed days;
// saving rewrites the calendar section only (the policies stay) and the
// SLA calendar follows it (a working Saturday, a summer closure); bad
// fields are refused with their problem next to them and nothing changes.
func TestSettingsCalendar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db)
		ctx := context.Background()
		admin, manager := b.login(t, "admin1"), b.login(t, "manager1")
		if r := b.get(t, manager, "/settings/calendar"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("manager sees the calendar form: %d", r.StatusCode)
		}
		if r := b.post(t, manager, "/settings/calendar", calendarFormValues()); r.StatusCode != http.StatusForbidden {
			t.Fatalf("manager saves the calendar: %d", r.StatusCode)
		}
		r := b.get(t, admin, "/settings/calendar?year=2027")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `value="Asia/Tokyo"`) || !strings.Contains(r.Body, `value="年末年始"`) ||
			!strings.Contains(r.Body, "2027/01/01") || !strings.Contains(r.Body, "元日") {
			t.Fatalf("calendar form: %d %.3000s", r.StatusCode, r.Body)
		}
		for _, label := range []string{"会社のタイムゾーン", "営業時間", "休日の出勤日"} {
			if !strings.Contains(r.Body, label) {
				t.Errorf("form misses %q", label)
			}
		}

		// Bad fields: each problem next to its field, nothing saved.
		bad := calendarFormValues()
		bad.Set("tz", "Mars/Olympus")
		bad.Set("h_end_1", "")
		bad.Set("ch_to_1", "2026-08-01")
		bad.Set("wk_from_0", "2026-13-45")
		r = b.post(t, admin, "/settings/calendar", bad)
		if r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("bad calendar: %d", r.StatusCode)
		}
		for _, want := range []string{`id="tz-err"`, "時間帯の開始と終了を両方入力してください", `id="ch_err_1"`, "終了日が開始日より前です",
			`id="wk_err_0"`, `value="Mars/Olympus"`} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("bad calendar page misses %q", want)
			}
		}
		if _, err := db.Setting(ctx, store.SettingSLA); err == nil {
			t.Fatal("a refused calendar was saved")
		}
		// An unknown zone alone: the calendar's own validation, at the field.
		bad = calendarFormValues()
		bad.Set("tz", "Mars/Olympus")
		r = b.post(t, admin, "/settings/calendar", bad)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="tz-err"`) || !strings.Contains(r.Body, "タイムゾーン「Mars/Olympus」は不明です") {
			t.Fatalf("unknown zone: %d", r.StatusCode)
		}
		// Overlapping periods: at the second period.
		bad = calendarFormValues()
		bad.Set("h_start_1", "11:00")
		bad.Set("days", "")
		r = b.post(t, admin, "/settings/calendar", bad)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "と重なっています") {
			t.Fatalf("overlapping periods: %d", r.StatusCode)
		}

		r = b.post(t, admin, "/settings/calendar", calendarFormValues())
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/settings/calendar?saved=1" {
			t.Fatalf("save calendar: %d %.2000s", r.StatusCode, r.Body)
		}
		st, err := db.Setting(ctx, store.SettingSLA)
		if err != nil {
			t.Fatal(err)
		}
		p, err := sla.Parse("sla.yaml", []byte(st.Value))
		if err != nil {
			t.Fatalf("saved SLA settings do not parse: %v\n%s", err, st.Value)
		}
		def, _ := sla.Parse("sla.yaml", sla.DefaultSource)
		if len(p.List) != len(def.List) || !strings.Contains(st.Value, "# An HQL is touched") {
			t.Errorf("the policies or their comments were not kept:\n%s", st.Value)
		}
		tokyo := p.Calendar.Location()
		for _, tc := range []struct {
			at   time.Time
			open bool
		}{
			{time.Date(2026, 10, 3, 10, 0, 0, 0, tokyo), true},   // working Saturday
			{time.Date(2026, 8, 14, 10, 0, 0, 0, tokyo), false},  // 夏季休業
			{time.Date(2026, 8, 17, 12, 30, 0, 0, tokyo), false}, // lunch break
			{time.Date(2026, 8, 17, 13, 30, 0, 0, tokyo), true},
			{time.Date(2027, 12, 30, 10, 0, 0, 0, tokyo), false}, // 年末年始, every year
		} {
			if got := p.Calendar.IsBusinessTime(tc.at); got != tc.open {
				t.Errorf("saved calendar: IsBusinessTime(%s) = %v, want %v", tc.at, got, tc.open)
			}
		}
		r = b.get(t, admin, "/settings/calendar?year=2026")
		if !strings.Contains(r.Body, "夏季休業") || !strings.Contains(r.Body, "土曜出勤") || !strings.Contains(r.Body, `value="13:00"`) {
			t.Errorf("form after save: %.3000s", r.Body)
		}
		// The YAML editor shows what the form wrote.
		if r := b.get(t, admin, "/settings/sla"); !strings.Contains(r.Body, "work_dates") || !strings.Contains(r.Body, "夏季休業") {
			t.Error("the YAML editor does not show the form's calendar")
		}
		en := b.get(t, admin, "/settings/calendar", "Accept-Language", "en")
		if !strings.Contains(en.Body, "Working days on rest days") {
			t.Error("no English form")
		}
	})
}

// TestReplaceCalendar: the calendar section is replaced up to the next
// top-level key, or added first.
func TestReplaceCalendar(t *testing.T) {
	doc := "# SLA\ncalendar:\n  time_zone: UTC\n  work_days: [mon]\n\n# the policies\npolicies:\n  - id: a\n"
	got := replaceCalendar(doc, "calendar:\n  time_zone: Asia/Tokyo\n")
	if want := "# SLA\ncalendar:\n  time_zone: Asia/Tokyo\n\n# the policies\npolicies:\n  - id: a\n"; got != want {
		t.Errorf("replace:\n%q\nwant\n%q", got, want)
	}
	if got := replaceCalendar("policies: []\n", "calendar: {}\n"); got != "calendar: {}\npolicies: []\n" {
		t.Errorf("add: %q", got)
	}
}
