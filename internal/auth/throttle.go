package auth

import (
	"sync"
	"time"
)

// Login throttling: after MaxFailures failed logins for one user name (or
// MaxFailuresPerAddr from one address) within FailureWindow, further
// attempts are refused until the window has passed, whether or not the
// user exists, so the answer reveals nothing about which names are real.
const (
	MaxFailures        = 5
	MaxFailuresPerAddr = 20
	FailureWindow      = 15 * time.Minute
)

// Throttle counts failed logins in memory. It is safe for concurrent use.
// A restart forgets the counts, which only gives an attacker a few more
// tries per restart.
type Throttle struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle returns an empty throttle.
func NewThrottle() *Throttle { return &Throttle{failures: map[string][]time.Time{}} }

// Blocked reports whether a login for name from addr must be refused now,
// and for how long.
func (t *Throttle) Blocked(name, addr string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	wait := time.Duration(0)
	for _, k := range []struct {
		key   string
		limit int
	}{{"n:" + name, MaxFailures}, {"a:" + addr, MaxFailuresPerAddr}} {
		recent := t.recent(k.key, now)
		if len(recent) >= k.limit {
			if w := recent[len(recent)-k.limit].Add(FailureWindow).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait > 0, wait
}

// Fail records a failed login.
func (t *Throttle) Fail(name, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{"n:" + name, "a:" + addr} {
		t.failures[k] = append(t.recent(k, now), now)
	}
}

// Succeed forgets the failures of a name after a successful login.
func (t *Throttle) Succeed(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, "n:"+name)
}

// recent drops failures older than the window; t.mu is held.
func (t *Throttle) recent(key string, now time.Time) []time.Time {
	list := t.failures[key]
	i := 0
	for i < len(list) && now.Sub(list[i]) >= FailureWindow {
		i++
	}
	list = list[i:]
	if len(list) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = list
	return list
}
