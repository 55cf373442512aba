package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/leadflow/leadflow/internal/sla"
	"github.com/leadflow/leadflow/internal/store"
)

// TestWebBrowserCalendarForm edits the business calendar with its form in
// Chromium: an unknown time zone comes back with the problem next to the
// field and nothing saved; a working Saturday is then saved and listed.
func TestWebBrowserCalendarForm(t *testing.T) {
	base, a := startWeb(t)
	pw := webUser(t, a, "caladmin", "admin")
	br := newBrowser(t, base)
	br.login("caladmin", pw)
	br.step("calendar form",
		chromedp.Navigate(base+"/settings/calendar?year=2026"),
		chromedp.WaitVisible(`form.calform input[name=tz]`))
	br.expectHTTPError("/settings/calendar")
	br.step("unknown time zone",
		chromedp.SetValue(`input[name=tz]`, "Mars/Olympus"),
		chromedp.Submit(`input[name=tz]`),
		chromedp.WaitVisible(`#tz-err`))
	if msg := br.text(`#tz-err`); !strings.Contains(msg, "Mars/Olympus") {
		t.Errorf("time zone problem %q", msg)
	}
	if _, err := a.db.Setting(context.Background(), store.SettingSLA); err == nil {
		t.Fatal("a refused calendar was saved")
	}
	br.step("working Saturday",
		chromedp.SetValue(`input[name=tz]`, "Asia/Tokyo"),
		chromedp.SetValue(`input[name=wk_from_0]`, "2026-10-03"),
		chromedp.SetValue(`input[name=wk_name_0]`, "土曜出勤"),
		chromedp.Submit(`input[name=tz]`),
		chromedp.WaitVisible(`.flash.ok`))
	st, err := a.db.Setting(context.Background(), store.SettingSLA)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sla.Parse("sla.yaml", []byte(st.Value))
	if err != nil {
		t.Fatal(err)
	}
	if wd := p.Calendar.WorkDates(2026); len(wd) != 1 || wd[0].Name != "土曜出勤" {
		t.Errorf("working dates %+v", wd)
	}
	if !strings.Contains(br.text(`aside`), "土曜出勤") {
		t.Error("the working Saturday is not listed")
	}
}
