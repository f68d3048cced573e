package linkfault

import (
	"net"
	"os"
	"sync"
	"time"

	"github.com/chaind/chaind/linkmodel"
)

// queueLen bounds the writes of one connection on their way: a writer
// blocks behind them, as behind a full socket buffer.
const queueLen = 64

type segment struct {
	data []byte
	at   time.Time // when it is handed to the inner connection
}

// conn shapes what is written to it: each Write is a segment timed by
// linkmodel.Stream on the transport's clock and written to the inner
// connection when it is due, in order. Reads are the inner connection's.
// Close lets what is on its way arrive first, as TCP and memnet do; a cut
// drops it.
type conn struct {
	net.Conn
	t    *Transport
	peer string

	mu       sync.Mutex
	shape    linkmodel.Stream
	deadline time.Time // of writes; zero is none

	queue     chan segment
	closing   chan struct{} // Close was called: no more writes; the queue drains
	aborted   chan struct{} // a cut or a failed write: the queue is dropped
	closeOnce sync.Once
	abortOnce sync.Once
}

func newConn(c net.Conn, t *Transport, peer string) *conn {
	sc := &conn{Conn: c, t: t, peer: peer, queue: make(chan segment, queueLen),
		closing: make(chan struct{}), aborted: make(chan struct{})}
	go sc.send()
	return sc
}

// Write queues b to arrive when the link says; it blocks while queueLen
// writes are on their way, until the write deadline.
func (c *conn) Write(b []byte) (int, error) {
	p := c.t.params(c.peer)
	if p.Cut {
		c.abort()
		return 0, ErrCut
	}
	select {
	case <-c.closing:
		return 0, net.ErrClosed
	case <-c.aborted:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	seg := segment{data: append([]byte(nil), b...), at: c.shape.Send(c.t.clock.Now(), len(b), p, c.t.rnd)}
	deadline := c.deadline
	c.mu.Unlock()
	var expired <-chan time.Time
	if !deadline.IsZero() {
		tm := c.t.clock.NewTimer(deadline.Sub(c.t.clock.Now()))
		defer tm.Stop()
		expired = tm.C()
	}
	select {
	case c.queue <- seg:
		return len(b), nil
	case <-c.closing:
		return 0, net.ErrClosed
	case <-c.aborted:
		return 0, net.ErrClosed
	case <-expired:
		return 0, os.ErrDeadlineExceeded
	}
}

// send hands each segment to the inner connection when it is due; after
// Close it hands over what is queued, then closes the inner connection.
func (c *conn) send() {
	defer c.Conn.Close()
	for {
		select {
		case seg := <-c.queue:
			if !c.deliver(seg) {
				return
			}
		case <-c.closing:
			for {
				select {
				case seg := <-c.queue:
					if !c.deliver(seg) {
						return
					}
				default:
					return
				}
			}
		case <-c.aborted:
			return
		}
	}
}

// deliver waits until seg is due and writes it; false once the connection
// is aborted or the write fails.
func (c *conn) deliver(seg segment) bool {
	if d := seg.at.Sub(c.t.clock.Now()); d > 0 {
		tm := c.t.clock.NewTimer(d)
		select {
		case <-tm.C():
		case <-c.aborted:
			tm.Stop()
			return false
		}
	}
	if _, err := c.Conn.Write(seg.data); err != nil {
		c.abort()
		return false
	}
	return true
}

// Read reads from the inner connection; after Close it fails.
func (c *conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && c.isClosing() {
		return n, net.ErrClosed
	}
	return n, err
}

func (c *conn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	case <-c.aborted:
		return true
	default:
		return false
	}
}

// SetWriteDeadline bounds the writes that wait for room in the queue, and
// the inner connection's.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetReadDeadline(t)
}

// Close stops reads and writes at once; what was written arrives before
// the peer sees the connection close.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.Conn.SetReadDeadline(time.Unix(1, 0)) // wakes a blocked Read
		c.t.forget(c)
	})
	return nil
}

// abort closes the connection and drops what is on its way: a cut.
func (c *conn) abort() {
	c.abortOnce.Do(func() {
		close(c.aborted)
		c.Conn.Close()
		c.t.forget(c)
	})
}
