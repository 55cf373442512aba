package calendar

import (
	"testing"
	"time"
)

func BenchmarkAdd(b *testing.B) {
	c := newCalendar(b, lunchConfig())
	start := time.Date(2026, 12, 25, 17, 30, 0, 0, c.Location())
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"1h", time.Hour}, {"2days", 16 * time.Hour}, {"20days", 160 * time.Hour}} {
		b.Run(d.name, func(b *testing.B) {
			for b.Loop() {
				c.Add(start, d.d)
			}
		})
	}
}

func BenchmarkBetween(b *testing.B) {
	c := newCalendar(b, lunchConfig())
	from := time.Date(2026, 12, 25, 17, 30, 0, 0, c.Location())
	to := from.AddDate(0, 1, 0)
	for b.Loop() {
		c.Between(from, to)
	}
}
