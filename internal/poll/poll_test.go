package poll

import (
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// TestUntilOnTheBubbleClock: a condition that becomes true after 3 s is
// seen at the first check after it, on the bubble's exact clock.
func TestUntilOnTheBubbleClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		Until(t, time.Minute, "3 s to pass", func() bool { return time.Since(start) >= 3*time.Second })
		if got := time.Since(start); got != 3*time.Second {
			t.Fatalf("returned after %v, want exactly 3s (a multiple of %v)", got, Interval)
		}
	})
}

// failure records a Fatalf and ends the goroutine, as testing.T does.
type failure struct {
	testing.TB
	msg string
}

func (f *failure) Helper() {}

func (f *failure) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestUntilTimesOut: a condition that never holds fails the test at the
// timeout, naming what it waited for.
func TestUntilTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &failure{TB: t}
		done := make(chan time.Duration)
		start := time.Now()
		go func() {
			defer func() { done <- time.Since(start) }()
			Until(f, 10*time.Second, "never", func() bool { return false })
		}()
		if took := <-done; took < 10*time.Second || took > 10*time.Second+Interval {
			t.Fatalf("gave up after %v, want 10s", took)
		}
		if f.msg != "timed out after 10s waiting for never" {
			t.Fatalf("message %q", f.msg)
		}
	})
}
