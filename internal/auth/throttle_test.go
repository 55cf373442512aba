package auth

import (
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	t.Parallel()
	th := NewThrottle()
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < MaxFailures; i++ {
		if blocked, _ := th.Blocked("sato", "10.0.0.1", now); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		th.Fail("sato", "10.0.0.1", now.Add(time.Duration(i)*time.Second))
	}
	blocked, wait := th.Blocked("sato", "10.0.0.9", now.Add(10*time.Second))
	if !blocked || wait <= 0 || wait > FailureWindow {
		t.Fatalf("after %d failures: blocked %v, wait %v", MaxFailures, blocked, wait)
	}
	// An unknown name is throttled the same way (no user enumeration), and
	// another name from the same address is not blocked yet.
	if blocked, _ := th.Blocked("tanaka", "10.0.0.1", now.Add(10*time.Second)); blocked {
		t.Fatal("another user blocked by sato's failures")
	}
	// The window passes.
	if blocked, _ := th.Blocked("sato", "10.0.0.1", now.Add(FailureWindow+5*time.Second)); blocked {
		t.Fatal("still blocked after the window")
	}
	// Many names from one address block the address.
	for i := 0; i < MaxFailuresPerAddr; i++ {
		th.Fail(string(rune('a'+i)), "10.0.0.2", now)
	}
	if blocked, _ := th.Blocked("zz", "10.0.0.2", now.Add(time.Second)); !blocked {
		t.Fatal("address not blocked")
	}
	th.Fail("ito", "10.0.0.3", now)
	th.Succeed("ito")
	if len(th.failures["n:ito"]) != 0 {
		t.Fatal("success did not clear the name's failures")
	}
}
