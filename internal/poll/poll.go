package poll

import (
	"testing"
	"time"
)

// Interval is how often Until checks its condition.
const Interval = 50 * time.Millisecond

// Until checks cond every Interval until it holds, and fails t, naming what
// it waited for, once timeout has passed without it.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout) // wall-clock, or the synctest bubble's
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(Interval)
	}
}
