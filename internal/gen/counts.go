package gen

import "math"

// eventCounts decides how many events each lead has: a log-normal, zipf-like
// heavy tail with a median of about 4 and, at the default 20 events per
// lead, a mean five times the median, so that over a million leads a few
// have tens of thousands of events. The draws are scaled so the total is
// exactly the configured number of events.
type eventCounts struct {
	raw   []float32 // unscaled draw per lead
	k     float64   // scale that makes the total fit
	extra int       // remainder, given to the heaviest lead
	heavy int       // index of the heaviest lead
	minN  int       // 1, or 0 when there are fewer events than leads
}

func newEventCounts(seed int64, leads, events int) *eventCounts {
	ec := &eventCounts{raw: make([]float32, leads), minN: 1, heavy: -1}
	if leads == 0 {
		return ec
	}
	mean := float64(events) / float64(leads)
	if mean < 1 {
		// Fewer events than leads: spread them evenly, one per chosen lead.
		ec.minN = 0
		for i := range ec.raw {
			if (i+1)*events/leads > i*events/leads {
				ec.raw[i] = 1
			}
		}
		ec.k = 1
		return ec
	}
	median := math.Min(4, mean)
	sigma := math.Sqrt(math.Max(0.25, 2*math.Log(mean/median)))
	r := newRNG(seed, saltCount, 0)
	heavy, max := 0, float32(0)
	for i := range ec.raw {
		x := float32(median * math.Exp(sigma*r.norm()))
		ec.raw[i] = x
		if x > max {
			heavy, max = i, x
		}
	}
	ec.heavy = heavy
	// Largest k with total(k) <= events; total is non-decreasing in k.
	lo, hi := 0.0, 1.0
	for ec.total(hi) <= events {
		lo, hi = hi, hi*2
	}
	for it := 0; it < 60 && hi-lo > 1e-12*hi; it++ {
		m := (lo + hi) / 2
		t := ec.total(m)
		if t <= events {
			lo = m
		}
		if t == events {
			break
		} else if t > events {
			hi = m
		}
	}
	ec.k = lo
	ec.extra = events - ec.total(lo)
	return ec
}

func (ec *eventCounts) scaled(i int, k float64) int {
	n := int(k*float64(ec.raw[i]) + 0.5)
	if n < ec.minN {
		n = ec.minN
	}
	return n
}

func (ec *eventCounts) total(k float64) int {
	s := 0
	for i := range ec.raw {
		s += ec.scaled(i, k)
	}
	return s
}

// count is the number of events of lead i.
func (ec *eventCounts) count(i int) int {
	n := ec.scaled(i, ec.k)
	if i == ec.heavy {
		n += ec.extra
	}
	return n
}
