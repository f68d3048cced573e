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
type conn struct {
	net.Conn
	t    *Transport
	peer string

	mu       sync.Mutex
	shape    linkmodel.Stream
	deadline time.Time // of writes; zero is none
	err      error     // the inner connection's write error

	queue  chan segment
	closed chan struct{}
	once   sync.Once
}

func newConn(c net.Conn, t *Transport, peer string) *conn {
	sc := &conn{Conn: c, t: t, peer: peer, queue: make(chan segment, queueLen), closed: make(chan struct{})}
	go sc.send()
	return sc
}

// Write queues b to arrive when the link says; it blocks while queueLen
// writes are on their way, until the write deadline.
func (c *conn) Write(b []byte) (int, error) {
	p := c.t.params(c.peer)
	if p.Cut {
		c.Close()
		return 0, ErrCut
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return 0, err
	}
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
	case <-c.closed:
		return 0, net.ErrClosed
	case <-expired:
		return 0, os.ErrDeadlineExceeded
	}
}

// send hands each segment to the inner connection when it is due.
func (c *conn) send() {
	for {
		var seg segment
		select {
		case seg = <-c.queue:
		case <-c.closed:
			return
		}
		if d := seg.at.Sub(c.t.clock.Now()); d > 0 {
			tm := c.t.clock.NewTimer(d)
			select {
			case <-tm.C():
			case <-c.closed:
				tm.Stop()
				return
			}
		}
		if _, err := c.Conn.Write(seg.data); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			c.Close()
			return
		}
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

// Close closes the connection; segments still on their way are dropped,
// as a closed socket's unsent bytes are.
func (c *conn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		err = c.Conn.Close()
		c.t.forget(c)
	})
	return err
}
