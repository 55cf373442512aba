package calendar

import "time"

// maxScanDays bounds every search for business time. New refuses calendars
// that close every day, so only a pathological run of dated company holidays
// (more than ten years long) can exhaust it.
const maxScanDays = 10 * 366

// Add returns the instant at which d of business time has elapsed since
// start. A start outside working hours counts from the next opening, so an
// HQL created on Friday at 17:30 with a one-hour SLA (09:00–18:00) is due on
// Monday at 09:30. When the time runs out exactly at a closing, the closing
// is returned (Friday 17:00 + 1h is Friday 18:00, not Monday 09:00).
//
// The result is in the calendar's time zone. d <= 0 returns start unchanged.
// If no business time remains within ten years, Add returns the zero Time.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	t := start.In(c.loc)
	day := dateOf(t)
	for range maxScanDays {
		if c.isWorkday(day) {
			for _, s := range c.spans {
				open, closing := c.wall(day, s.Start), c.wall(day, s.End)
				if !t.Before(closing) {
					continue
				}
				from := open
				if t.After(open) {
					from = t
				}
				avail := closing.Sub(from)
				if d <= avail {
					return from.Add(d)
				}
				d -= avail
			}
		}
		day = day.addDays(1)
	}
	return time.Time{}
}

// Between returns the business time elapsed from a to b. It is negative when
// b is before a, and it inverts Add: Between(a, Add(a, d)) == d.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.Between(b, a)
	}
	a, b = a.In(c.loc), b.In(c.loc)
	last := dateOf(b)
	var total time.Duration
	for day := dateOf(a); day.compare(last) <= 0; day = day.addDays(1) {
		if !c.isWorkday(day) {
			continue
		}
		for _, s := range c.spans {
			lo, hi := c.wall(day, s.Start), c.wall(day, s.End)
			if a.After(lo) {
				lo = a
			}
			if b.Before(hi) {
				hi = b
			}
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
	}
	return total
}

// AddDays returns the instant n business days after start, at the same
// position within the working day: Friday 10:00 + 1 is Monday 10:00 (or
// Tuesday when Monday is a holiday). One business day is one full working
// day of business hours, so a start outside working hours counts as the end
// of the previous working day: an SQL created on Saturday, or on Monday
// before 09:00, with a one-day SLA is due on Monday at closing. With the
// same hours every day this equals Add(start, n × the working day's length);
// unlike Add, it still lands on the same wall-clock time across a DST change.
//
// The result is in the calendar's time zone. n <= 0 returns start unchanged.
// If no business day remains within ten years, AddDays returns the zero Time.
func (c *Calendar) AddDays(start time.Time, n int) time.Time {
	if n <= 0 {
		return start
	}
	t := start.In(c.loc)
	day, ok := c.nextWorkday(dateOf(t), 0)
	for ok && !t.Before(c.wall(day, c.spans[len(c.spans)-1].End)) {
		day, ok = c.nextWorkday(day, 1)
	}
	if !ok {
		return time.Time{}
	}
	offset := c.Between(c.wall(day, c.spans[0].Start), t)
	if offset <= 0 {
		// At or before the opening: the same business instant as the close
		// of the previous working day.
		if prev, found := c.nextWorkday(day, -1); found {
			day, offset = prev, c.dayLength(prev)
		}
	}
	for ; n > 0 && ok; n-- {
		day, ok = c.nextWorkday(day, 1)
	}
	if !ok {
		return time.Time{}
	}
	return c.atOffset(day, offset)
}

// nextWorkday returns the first working day from day, stepping by step (1
// forward, -1 backward); step 0 accepts day itself, else searches forward.
func (c *Calendar) nextWorkday(day Date, step int) (Date, bool) {
	if step == 0 {
		if c.isWorkday(day) {
			return day, true
		}
		step = 1
	}
	for range maxScanDays {
		day = day.addDays(step)
		if c.isWorkday(day) {
			return day, true
		}
	}
	return day, false
}

// dayLength is the business time of a working day: the sum of the spans,
// except on a day when a DST change falls inside working hours.
func (c *Calendar) dayLength(day Date) time.Duration {
	var total time.Duration
	for _, s := range c.spans {
		total += c.wall(day, s.End).Sub(c.wall(day, s.Start))
	}
	return total
}

// atOffset returns the earliest instant of working day day by which offset
// of business time has elapsed since its opening; an offset that ends a span
// returns that span's end, not the next span's start. Offsets beyond the
// day's length (after a DST change) clamp to its closing.
func (c *Calendar) atOffset(day Date, offset time.Duration) time.Time {
	var end time.Time
	for _, s := range c.spans {
		open, closing := c.wall(day, s.Start), c.wall(day, s.End)
		length := closing.Sub(open)
		if offset <= length {
			return open.Add(offset)
		}
		offset -= length
		end = closing
	}
	return end
}
