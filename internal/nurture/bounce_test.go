package nurture

import (
	"testing"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/calendar"
)

func TestBounceSettings(t *testing.T) {
	s, err := ParseSettings([]byte("bounces: {soft_limit: 5}\n"))
	if err != nil || s.Bounces.SoftLimit != 5 || s.Bounces.SoftWindowDays != 30 || s.Rate.PerMinute != 60 {
		t.Fatalf("partial bounces: %+v %v", s, err)
	}
	for _, bad := range []string{"bounces: {soft_limit: -1}\n", "bounces: {soft_window_days: 0}\n", "bounces: {soft_limit: 2, soft_window_days: 9999}\n"} {
		if _, err := ParseSettings([]byte(bad)); leadflow.ErrorCode(err) != leadflow.EINVALID {
			t.Errorf("%q: %v", bad, err)
		}
	}
	b := Bounces{SoftLimit: 3, SoftWindowDays: 30}
	if !b.SuppressesAfter("hard", 0) || b.SuppressesAfter("soft", 2) || !b.SuppressesAfter("soft", 3) {
		t.Fatal("SuppressesAfter")
	}
	if (Bounces{}).SuppressesAfter("soft", 100) {
		t.Fatal("soft_limit 0 suppressed")
	}
	at := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	if got := b.SoftSince(at); !got.Equal(time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("SoftSince %s", got)
	}
}

func TestWaitResumeAt(t *testing.T) {
	cal, err := calendar.New(calendar.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	jst := time.FixedZone("JST", 9*3600)
	at := func(d, h int) time.Time { return time.Date(2026, 6, d, h, 0, 0, 0, jst) }
	bh, _ := ParseWait("16 business hours")
	plain, _ := ParseWait("3d")
	for _, c := range []struct {
		name             string
		w                Wait
		paused, due, now time.Time
		want             time.Time
	}{
		// 15 business hours left on Monday 13:00; from Friday 12:00: Monday 18:00.
		{"business", bh, at(1, 13), at(3, 10), at(5, 12), at(8, 18)},
		// Paused on Saturday with the wait ending Monday 09:00: nothing
		// left in business time, so it ends at its end.
		{"weekend", bh, at(6, 12), at(8, 9), at(7, 12), at(8, 9)},
		{"plain", plain, at(1, 12), at(3, 12), at(10, 12), at(12, 12)},
		{"was due", plain, at(3, 12), at(3, 12), at(10, 12), at(10, 12)},
	} {
		if got := c.w.ResumeAt(c.paused, c.due, c.now, cal); !got.Equal(c.want) {
			t.Errorf("%s: %s, want %s", c.name, got.In(jst), c.want)
		}
	}
}
