package memnet

import (
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/linkmodel"
)

// segment is one write on its way.
type segment struct {
	data []byte
	at   time.Time // arrival
}

// stream is one direction of a connection: writes enter a queue, arrive after
// the link's delays, in order, and wait in readable until read.
type stream struct {
	net  *Network
	link Link

	mu       sync.Mutex
	shape    linkmodel.Stream // when each write arrives
	queue    []segment
	readable []byte
	held     int // bytes queued or unread, bounded by Window
	timer    clock.Timer
	wclosed  bool // the writer closed: EOF once drained
	rclosed  bool // the reader closed: writes fail
	changed  chan struct{}
}

func newStream(n *Network, l Link) *stream {
	return &stream{net: n, link: l, changed: make(chan struct{})}
}

// notify wakes every waiter; s.mu is held.
func (s *stream) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// push sends b (at most Window-held bytes); s.mu is held.
func (s *stream) push(b []byte) {
	clk := s.net.clock
	now := clk.Now()
	at := s.shape.Send(now, len(b), s.link, s.net.rnd)
	s.held += len(b)
	if !at.After(now) && len(s.queue) == 0 {
		s.readable = append(s.readable, b...)
		s.notify()
		return
	}
	s.queue = append(s.queue, segment{data: append([]byte(nil), b...), at: at})
	if s.timer == nil {
		s.timer = clk.AfterFunc(at.Sub(now), s.arrive)
	}
}

// arrive moves the segments that are due into readable.
func (s *stream) arrive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.net.clock.Now()
	for len(s.queue) > 0 && !s.queue[0].at.After(now) {
		s.readable = append(s.readable, s.queue[0].data...)
		s.queue = s.queue[1:]
	}
	s.timer = nil
	if len(s.queue) > 0 {
		s.timer = s.net.clock.AfterFunc(s.queue[0].at.Sub(now), s.arrive)
	}
	s.notify()
}

// wait blocks until the stream changes or the deadline passes; s.mu is held
// on entry and on return. It reports false on the deadline.
func (s *stream) wait(deadline time.Time) bool {
	ch := s.changed
	if deadline.IsZero() {
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
		return true
	}
	d := deadline.Sub(s.net.clock.Now())
	if d <= 0 {
		return false
	}
	t := s.net.clock.NewTimer(d)
	s.mu.Unlock()
	defer s.mu.Lock()
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C():
		return false
	}
}

func (s *stream) read(p []byte, deadline func() time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		switch {
		case s.rclosed:
			return 0, net.ErrClosed
		case len(s.readable) > 0:
			n := copy(p, s.readable)
			s.readable = s.readable[n:]
			s.held -= n
			s.notify()
			return n, nil
		case s.wclosed && len(s.queue) == 0:
			return 0, io.EOF
		}
		if !s.wait(deadline()) {
			return 0, os.ErrDeadlineExceeded
		}
	}
}

func (s *stream) write(p []byte, deadline func() time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	written := 0
	for written < len(p) {
		switch {
		case s.wclosed:
			return written, net.ErrClosed
		case s.rclosed:
			return written, errClosedPipe
		case s.held < Window:
			n := min(len(p)-written, Window-s.held)
			s.push(p[written : written+n])
			written += n
			continue
		}
		if !s.wait(deadline()) {
			return written, os.ErrDeadlineExceeded
		}
	}
	return written, nil
}

// conn is one end of a connection.
type conn struct {
	net           *Network
	in, out       *stream
	local, remote net.Addr

	dl        sync.Mutex
	rdl, wdl  time.Time
	closeOnce sync.Once
}

func (c *conn) readDeadline() time.Time {
	c.dl.Lock()
	defer c.dl.Unlock()
	return c.rdl
}

func (c *conn) writeDeadline() time.Time {
	c.dl.Lock()
	defer c.dl.Unlock()
	return c.wdl
}

func (c *conn) Read(p []byte) (int, error)  { return c.in.read(p, c.readDeadline) }
func (c *conn) Write(p []byte) (int, error) { return c.out.write(p, c.writeDeadline) }

// Close ends both directions: the other side reads EOF after what is on its
// way, and its writes fail.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		c.net.mu.Lock()
		delete(c.net.conns, c)
		c.net.mu.Unlock()
		c.in.mu.Lock()
		c.in.rclosed = true
		c.in.notify()
		c.in.mu.Unlock()
		c.out.mu.Lock()
		c.out.wclosed = true
		c.out.notify()
		c.out.mu.Unlock()
	})
	return nil
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

func (c *conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.dl.Lock()
	c.rdl = t
	c.dl.Unlock()
	c.in.mu.Lock()
	c.in.notify() // a blocked Read looks at the new deadline
	c.in.mu.Unlock()
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.dl.Lock()
	c.wdl = t
	c.dl.Unlock()
	c.out.mu.Lock()
	c.out.notify()
	c.out.mu.Unlock()
	return nil
}
