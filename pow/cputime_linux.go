package pow

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUTime is the CPU time (user and system) the calling OS thread has
// used; the caller must be locked to its thread.
func threadCPUTime() (time.Duration, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
