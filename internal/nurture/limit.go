package nurture

import (
	"sync"
	"time"
)

// limiter is a sliding one-minute window per key (the global key "" and
// one per sender). It lives in the process: leadflow is one binary, and a
// second instance only makes the real rate up to twice the limit.
type limiter struct {
	mu   sync.Mutex
	sent map[string][]time.Time
}

// take records a send under every key whose limit allows it now, or
// returns how long to wait (nothing recorded). Limits <= 0 are unlimited.
func (l *limiter) take(now time.Time, limits map[string]int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == nil {
		l.sent = map[string][]time.Time{}
	}
	var wait time.Duration
	for key, n := range limits {
		if n <= 0 {
			continue
		}
		ts := l.sent[key]
		i := 0
		for i < len(ts) && !ts[i].After(now.Add(-time.Minute)) {
			i++
		}
		ts = ts[i:]
		l.sent[key] = ts
		if len(ts) >= n {
			if w := ts[len(ts)-n].Add(time.Minute).Sub(now); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 {
		return wait
	}
	for key, n := range limits {
		if n > 0 {
			l.sent[key] = append(l.sent[key], now)
		}
	}
	return 0
}
