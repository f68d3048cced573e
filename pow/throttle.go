package pow

import (
	"context"
	"math"

	"github.com/chaind/chaind/clock"
	"golang.org/x/time/rate"
)

// throttle holds the miner to a declared hash rate: a token bucket of
// nonces (golang.org/x/time/rate, driven by a clock.Clock so that tests run
// on a simulated one). The workers take a chunk of tokens before hashing a
// chunk of nonces, so the rate holds over any interval longer than a chunk
// whatever else the CPU is doing, as long as the CPU can supply it. The
// bucket holds 100 ms of nonces, so that the moments the miner spends
// switching templates (at every block) are made up for rather than lost.
type throttle struct {
	clk   clock.Clock
	lim   *rate.Limiter
	chunk uint64 // nonces per take: about 10 ms of hashing
}

func newThrottle(hashrate float64, clk clock.Clock) *throttle {
	chunk := uint64(min(math.Max(hashrate/100, 1), stopCheckInterval))
	burst := max(int(chunk), int(hashrate/10))
	return &throttle{clk: clock.OrReal(clk), lim: rate.NewLimiter(rate.Limit(hashrate), burst), chunk: chunk}
}

// take waits until n nonces may be hashed; false if ctx ends first (the
// tokens are then returned).
func (t *throttle) take(ctx context.Context, n uint64) bool {
	now := t.clk.Now()
	r := t.lim.ReserveN(now, int(n))
	delay := r.DelayFrom(now)
	if delay == 0 {
		return true
	}
	timer := t.clk.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C():
		return true
	case <-ctx.Done():
		r.CancelAt(t.clk.Now())
		return false
	}
}
