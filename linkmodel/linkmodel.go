package linkmodel

import (
	"fmt"
	"math"
	"math/bits"
	"sync"
	"time"
)

// Params shape one direction of a link. The JSON names are those of the
// testnet's records, scenarios and control RPC.
type Params struct {
	Latency time.Duration `json:"latency"` // one-way delay of every segment
	Jitter  time.Duration `json:"jitter"`  // uniform extra delay in [0, Jitter)
	// Loss is the probability that a segment is lost once and resent,
	// arriving RetransmitDelay(Latency) late.
	Loss      float64 `json:"loss"`
	Bandwidth int64   `json:"bandwidth"` // bytes per second; 0 is unlimited
	Cut       bool    `json:"cut"`       // partitioned: nothing gets through
}

// RetransmitDelay is what a lost segment costs: a minimum retransmission
// timeout of 200 ms plus a round trip, as TCP resends it.
func RetransmitDelay(latency time.Duration) time.Duration {
	return 200*time.Millisecond + 2*latency
}

// TransferTime is how long n bytes take to leave a wire of bandwidth bytes
// per second, rounded down to the nanosecond; 0 for an unlimited wire.
func TransferTime(n int, bandwidth int64) time.Duration {
	if bandwidth <= 0 || n <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(n), uint64(time.Second))
	if hi >= uint64(bandwidth) {
		return math.MaxInt64 // beyond 292 years
	}
	q, _ := bits.Div64(hi, lo, uint64(bandwidth))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
}

// Source draws uniform numbers in [0, 1); *math/rand.Rand and
// *math/rand/v2.Rand are sources.
type Source interface{ Float64() float64 }

// Locked makes src safe for concurrent use; the sequence it draws is src's,
// in the order of the calls.
func Locked(src Source) Source { return &locked{src: src} }

type locked struct {
	mu  sync.Mutex
	src Source
}

func (l *locked) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.src.Float64()
}

// Delay draws what a segment spends on the link once it has left the wire:
// the latency, a jitter uniform in [0, Jitter), and RetransmitDelay more if
// it is lost. It draws from rnd only for a non-zero Jitter (first) and a
// non-zero Loss (second), so links without them leave the sequence alone.
func (p Params) Delay(rnd Source) time.Duration {
	d := p.Latency
	if p.Jitter > 0 {
		d += time.Duration(rnd.Float64() * float64(p.Jitter))
	}
	if p.Loss > 0 && rnd.Float64() < p.Loss {
		d += RetransmitDelay(p.Latency)
	}
	return d
}

// Queue is a sending wire: segments leave it one after another at its
// bandwidth. The zero Queue is empty. It is not safe for concurrent use.
type Queue struct{ free time.Time }

// Transmit returns when the last byte of an n-byte segment handed to the
// wire at now has left it at bandwidth bytes per second, behind the
// segments handed to it before.
func (q *Queue) Transmit(now time.Time, n int, bandwidth int64) time.Time {
	start := now
	if q.free.After(start) {
		start = q.free
	}
	q.free = start.Add(TransferTime(n, bandwidth))
	return q.free
}

// Stream is one direction of a connection over a link: a Queue, then the
// link's Delay, in order. The zero Stream is empty. It is not safe for
// concurrent use.
type Stream struct {
	wire Queue
	last time.Time
}

// Send returns when an n-byte segment written at now arrives at the other
// end of a link shaped by p: after its turn on the wire and its delay, and
// never before the segment written before it (a stream keeps its order).
// p.Cut is the caller's to act on.
func (s *Stream) Send(now time.Time, n int, p Params, rnd Source) time.Time {
	at := s.wire.Transmit(now, n, p.Bandwidth).Add(p.Delay(rnd))
	if at.Before(s.last) {
		at = s.last
	}
	s.last = at
	return at
}

// Check refuses parameters no link can have: a negative latency, jitter or
// bandwidth, or a loss outside [0, 1].
func (p Params) Check() error {
	switch {
	case p.Latency < 0 || p.Jitter < 0:
		return fmt.Errorf("link: negative latency %v or jitter %v", p.Latency, p.Jitter)
	case p.Bandwidth < 0:
		return fmt.Errorf("link: negative bandwidth %d bytes/s", p.Bandwidth)
	case !(p.Loss >= 0 && p.Loss <= 1):
		return fmt.Errorf("link: loss %g outside [0, 1]", p.Loss)
	}
	return nil
}
