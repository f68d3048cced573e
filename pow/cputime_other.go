//go:build !linux

package pow

import "time"

// threadCPUTime is unavailable here.
func threadCPUTime() (time.Duration, bool) { return 0, false }
