package linkmodel

import (
	"math"
	"math/rand"
	"testing"
	"time"
)

// draws is a source that returns fixed numbers in order and counts them.
type draws struct {
	vals []float64
	n    int
}

func (d *draws) Float64() float64 {
	v := d.vals[d.n%len(d.vals)]
	d.n++
	return v
}

// TestTransferTimeIsExact: n bytes at B bytes per second take n/B seconds
// to the nanosecond (rounded down), with no float rounding and no overflow.
func TestTransferTimeIsExact(t *testing.T) {
	for _, c := range []struct {
		n    int
		bw   int64
		want time.Duration
	}{
		{1000, 10_000, 100 * time.Millisecond},
		{20_004, 100_000, 200_040 * time.Microsecond},
		{1, 3, 333_333_333},
		{1_000_000, 2_400_000, 416_666_666},
		{1000, 0, 0},
		{0, 10, 0},
		{math.MaxInt, 1, math.MaxInt64},
	} {
		if got := TransferTime(c.n, c.bw); got != c.want {
			t.Errorf("TransferTime(%d, %d) = %v, want %v", c.n, c.bw, got, c.want)
		}
	}
}

// TestQueueWaitsItsTurn: a segment handed to a busy wire leaves after the
// one before it; one handed to an idle wire leaves at once.
func TestQueueWaitsItsTurn(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var q Queue
	if got := q.Transmit(t0, 1000, 10_000); !got.Equal(t0.Add(100 * time.Millisecond)) {
		t.Fatalf("first segment leaves at %v", got.Sub(t0))
	}
	if got := q.Transmit(t0.Add(10*time.Millisecond), 500, 10_000); !got.Equal(t0.Add(150 * time.Millisecond)) {
		t.Fatalf("second segment leaves at %v, want behind the first at 150ms", got.Sub(t0))
	}
	if got := q.Transmit(t0.Add(time.Second), 500, 10_000); !got.Equal(t0.Add(1050 * time.Millisecond)) {
		t.Fatalf("segment on an idle wire leaves at %v, want 1.05s", got.Sub(t0))
	}
}

// TestDelayDrawsOnlyWhatItUses: latency alone draws nothing; jitter is
// drawn first and scaled below Jitter; a loss draw under Loss adds the
// retransmission delay.
func TestDelayDrawsOnlyWhatItUses(t *testing.T) {
	src := &draws{vals: []float64{0.5, 0.1}}
	if d := (Params{Latency: 40 * time.Millisecond}).Delay(src); d != 40*time.Millisecond || src.n != 0 {
		t.Fatalf("latency only: %v after %d draws", d, src.n)
	}
	p := Params{Latency: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 0.2}
	want := 40*time.Millisecond + 15*time.Millisecond + RetransmitDelay(40*time.Millisecond)
	if d := p.Delay(src); d != want || src.n != 2 {
		t.Fatalf("jitter 0.5 and loss draw 0.1 < 0.2: %v after %d draws, want %v after 2", d, src.n, want)
	}
	src = &draws{vals: []float64{0.3}}
	if d := (Params{Latency: time.Millisecond, Loss: 0.2}).Delay(src); d != time.Millisecond {
		t.Fatalf("loss draw 0.3 >= 0.2: %v", d)
	}
}

// TestStreamKeepsOrder: a segment whose delay is shorter than the one
// before it still arrives after it, and a lost segment delays the ones
// behind it, as a TCP stream does.
func TestStreamKeepsOrder(t *testing.T) {
	t0 := time.Unix(0, 0)
	var s Stream
	p := Params{Latency: 10 * time.Millisecond, Loss: 0.5}
	src := &draws{vals: []float64{0.1, 0.9}} // the first lost, the second not
	first := s.Send(t0, 100, p, src)
	if want := t0.Add(10*time.Millisecond + RetransmitDelay(10*time.Millisecond)); !first.Equal(want) {
		t.Fatalf("lost segment arrives at %v, want %v", first.Sub(t0), want.Sub(t0))
	}
	if second := s.Send(t0.Add(time.Millisecond), 100, p, src); !second.Equal(first) {
		t.Fatalf("segment behind a lost one arrives at %v, want with it at %v", second.Sub(t0), first.Sub(t0))
	}
}

// TestLockedKeepsTheSequence: a locked source draws the seeded sequence of
// the source it wraps.
func TestLockedKeepsTheSequence(t *testing.T) {
	a, b := rand.New(rand.NewSource(9)), Locked(rand.New(rand.NewSource(9)))
	for i := range 100 {
		if x, y := a.Float64(), b.Float64(); x != y {
			t.Fatalf("draw %d: %v, locked %v", i, x, y)
		}
	}
}
