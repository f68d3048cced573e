package clock

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Sim is a simulated clock. Its time moves only through Advance, AdvanceTo
// and Step; each fires the timers that fall due, in deadline order (ties in
// the order they were armed), moving Now to each deadline as it fires it.
// Channel sends never block (a full channel drops the tick, as time.Ticker
// does); AfterFunc callbacks run on the advancing goroutine, without the
// clock's lock held, so they may use the clock.
type Sim struct {
	mu      sync.Mutex
	now     time.Time
	seq     uint64
	waiters waiterHeap
	changed chan struct{} // closed and replaced whenever a timer is armed
}

var _ Clock = (*Sim)(nil)

// NewSim returns a simulated clock that reads start.
func NewSim(start time.Time) *Sim {
	return &Sim{now: start, changed: make(chan struct{})}
}

// Now implements Clock.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// NewTimer implements Clock.
func (s *Sim) NewTimer(d time.Duration) Timer {
	t := &simTimer{clock: s, ch: make(chan time.Time, 1)}
	s.arm(t, d)
	return t
}

// AfterFunc implements Clock.
func (s *Sim) AfterFunc(d time.Duration, f func()) Timer {
	t := &simTimer{clock: s, fn: f}
	s.arm(t, d)
	return t
}

// NewTicker implements Clock.
func (s *Sim) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	t := &simTimer{clock: s, ch: make(chan time.Time, 1), period: d}
	s.arm(t, d)
	return simTicker{t}
}

// Pending is the number of armed timers and tickers.
func (s *Sim) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiters)
}

// Next returns the earliest deadline of an armed timer.
func (s *Sim) Next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) == 0 {
		return time.Time{}, false
	}
	return s.waiters[0].deadline, true
}

// Advance moves time forward by d, firing every timer that falls due.
func (s *Sim) Advance(d time.Duration) { s.AdvanceTo(s.Now().Add(d)) }

// AdvanceTo moves time forward to t (never back), firing every timer due by
// then in order.
func (s *Sim) AdvanceTo(t time.Time) {
	for s.fireNext(t) {
	}
	s.mu.Lock()
	if t.After(s.now) {
		s.now = t
	}
	s.mu.Unlock()
}

// Step moves time to the earliest deadline and fires that one timer. It
// reports false when no timer is armed.
func (s *Sim) Step() bool {
	next, ok := s.Next()
	if !ok {
		return false
	}
	return s.fireNext(next)
}

// BlockUntil waits until at least n timers are armed, or ctx is done: a test
// uses it to know that the goroutines it started are waiting on the clock
// before it advances.
func (s *Sim) BlockUntil(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		if len(s.waiters) >= n {
			s.mu.Unlock()
			return nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// fireNext fires the earliest timer if it is due by limit.
func (s *Sim) fireNext(limit time.Time) bool {
	s.mu.Lock()
	if len(s.waiters) == 0 || s.waiters[0].deadline.After(limit) {
		s.mu.Unlock()
		return false
	}
	w := heap.Pop(&s.waiters).(*simTimer)
	w.index = -1
	if w.deadline.After(s.now) {
		s.now = w.deadline
	}
	now := s.now
	if w.period > 0 {
		w.deadline = now.Add(w.period)
		s.seq++
		w.seq = s.seq
		heap.Push(&s.waiters, w)
	}
	s.mu.Unlock()
	if w.fn != nil {
		w.fn()
	} else {
		select {
		case w.ch <- now:
		default:
		}
	}
	return true
}

func (s *Sim) arm(t *simTimer, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.deadline = s.now.Add(max(d, 0))
	s.seq++
	t.seq = s.seq
	heap.Push(&s.waiters, t)
	close(s.changed)
	s.changed = make(chan struct{})
}

// disarm removes t; it reports whether t was armed.
func (s *Sim) disarm(t *simTimer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&s.waiters, t.index)
	t.index = -1
	return true
}

type simTimer struct {
	clock    *Sim
	ch       chan time.Time
	fn       func()
	period   time.Duration
	deadline time.Time
	seq      uint64
	index    int // in the heap; -1 when not armed
}

func (t *simTimer) C() <-chan time.Time { return t.ch }

func (t *simTimer) Stop() bool { return t.clock.disarm(t) }

func (t *simTimer) Reset(d time.Duration) bool {
	was := t.clock.disarm(t)
	t.clock.arm(t, d)
	return was
}

type simTicker struct{ t *simTimer }

func (k simTicker) C() <-chan time.Time { return k.t.ch }
func (k simTicker) Stop()               { k.t.clock.disarm(k.t) }
func (k simTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	c := k.t.clock
	c.disarm(k.t)
	c.mu.Lock()
	k.t.period = d
	c.mu.Unlock()
	c.arm(k.t, d)
}

// waiterHeap orders timers by deadline, then by the order they were armed.
type waiterHeap []*simTimer

func (h waiterHeap) Len() int { return len(h) }
func (h waiterHeap) Less(i, j int) bool {
	if !h[i].deadline.Equal(h[j].deadline) {
		return h[i].deadline.Before(h[j].deadline)
	}
	return h[i].seq < h[j].seq
}
func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waiterHeap) Push(x any) {
	t := x.(*simTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *waiterHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
