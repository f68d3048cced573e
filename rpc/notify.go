package rpc

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/chaind/chaind/clock"
)

// topic is what a subscription listens to.
type topic int

const (
	topicHeads  topic = iota // newHeads
	topicTxHash              // newPendingTransactions: hashes
	topicTxFull              // newPendingTransactions with true: whole transactions
	topicLogs                // logs: no chaind transaction emits one, so never published
	numTopics
)

// hub fans notifications out to the WebSocket connections subscribed to
// them, without ever waiting on one: the feeds call publish on the node's
// intake path (a transaction admitted to the pool, a new head), so its work
// is one encoding per event and an append per connection, however many
// subscriptions there are.
//
// What subscribers cost the node is bounded three ways: an event sends one
// connection at most WSConfig.NotifyBudget notifications (its subscriptions
// to the topic take turns beyond that); a connection queues at most
// WSConfig.SendQueue of them; and all connections together are sent at
// most WSConfig.NotifyPerEvent per event plus WSConfig.NotifyRate per
// second. The per-event share scales with the work that caused it, so a
// node that is slowed down (by load, by a race detector) keeps the same
// proportion between intake and notifications; the per-second share serves
// rare events (new heads) to many subscribers. What does not fit is
// dropped: a slow or flooding subscriber loses notifications, the node
// keeps its intake.
type hub struct {
	budget int // WSConfig.NotifyBudget
	clk    clock.Clock

	mu      sync.RWMutex
	byTopic [numTopics]map[*wsConn]struct{} // connections with an active subscription to the topic

	rateMu   sync.Mutex
	perEvent float64 // WSConfig.NotifyPerEvent
	rate     float64 // notifications per second, WSConfig.NotifyRate
	burst    float64 // the most tokens held: a second's worth, and at least an event's
	tokens   float64
	last     time.Time
}

func newHub(cfg WSConfig, clk clock.Clock) *hub {
	burst := max(cfg.NotifyRate, float64(cfg.NotifyPerEvent))
	return &hub{budget: cfg.NotifyBudget, clk: clk, perEvent: float64(cfg.NotifyPerEvent), rate: cfg.NotifyRate, burst: burst, tokens: burst}
}

// event adds one event's share (NotifyPerEvent) to the node-wide budget;
// the feeds call it once per new head or pool transaction, whatever the
// topics it is published to.
func (h *hub) event() {
	h.rateMu.Lock()
	defer h.rateMu.Unlock()
	h.tokens = min(h.burst, h.tokens+h.perEvent)
}

// take returns how many of want notifications the node-wide budget allows
// now; besides the events' shares, the tokens refill by the server's clock.
func (h *hub) take(want int) int {
	h.rateMu.Lock()
	defer h.rateMu.Unlock()
	now := h.clk.Now()
	if !h.last.IsZero() && now.After(h.last) {
		h.tokens = min(h.burst, h.tokens+now.Sub(h.last).Seconds()*h.rate)
	}
	h.last = now
	n := min(want, int(h.tokens))
	h.tokens -= float64(n)
	return n
}

// refund returns n unused notifications to the node-wide rate.
func (h *hub) refund(n int) {
	h.rateMu.Lock()
	defer h.rateMu.Unlock()
	h.tokens = min(h.burst, h.tokens+float64(n))
}

func (h *hub) set(t topic, c *wsConn, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !on {
		delete(h.byTopic[t], c)
		return
	}
	if h.byTopic[t] == nil {
		h.byTopic[t] = make(map[*wsConn]struct{})
	}
	h.byTopic[t][c] = struct{}{}
}

// publish sends the result encode returns to the subscribers of t. encode
// runs once, and only if there is a subscriber.
func (h *hub) publish(t topic, encode func() ([]byte, error)) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	conns := h.byTopic[t]
	if len(conns) == 0 {
		return nil
	}
	allowed := h.take(len(conns) * h.budget)
	if allowed == 0 {
		return nil
	}
	result, err := encode()
	if err != nil {
		h.refund(allowed)
		return err
	}
	// Map order is random: under a short rate, every connection has the
	// same chance to be among those served.
	left := allowed
	for c := range conns {
		if left == 0 {
			break
		}
		left -= c.deliver(t, result, min(left, h.budget))
	}
	h.refund(left)
	return nil
}

// outMsg is what a connection's write loop sends: an answer, or one
// notification's result (shared by every connection it goes to) for each of
// the subscriptions subs.
type outMsg struct {
	data []byte
	subs []string
}

// deliver queues result for c's active subscriptions to t, at most max
// of them, taking turns, and returns how many it queued; if the queue has
// no room it drops them and counts the loss.
func (c *wsConn) deliver(t topic, result []byte, max int) int {
	c.mu.Lock()
	ids := c.active[t]
	n := min(len(ids), max)
	if n == 0 {
		c.mu.Unlock()
		return 0
	}
	if c.notes+n > c.s.cfg.WS.SendQueue {
		c.dropped += uint64(n)
		first := c.dropped == uint64(n)
		c.mu.Unlock()
		if first {
			c.s.log.Warn("WebSocket subscriber does not keep up; dropping its notifications", "remote", c.conn.RemoteAddr(), "queued", c.s.cfg.WS.SendQueue)
		}
		return 0
	}
	subs := ids // shared: active slices are replaced, never changed in place
	if n < len(ids) {
		start := c.turn[t] % len(ids)
		c.turn[t] = start + n
		subs = make([]string, n)
		for i := range subs {
			subs[i] = ids[(start+i)%len(ids)]
		}
	}
	c.out = append(c.out, outMsg{data: result, subs: subs})
	c.notes += n
	c.mu.Unlock()
	c.wakeWriter()
	return n
}

func (c *wsConn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// The parts of a notification around its subscription id and result.
var (
	notePrefix = []byte(`{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"`)
	noteMiddle = []byte(`","result":`)
	noteSuffix = []byte(`}}`)
)

// batchConn is the connection under a WebSocket. While the write loop has a
// batch open, the frames it writes collect in a buffer and leave in one
// system call per batchBytes, instead of one per frame; other writes (the
// handshake, pongs, close frames) go straight out.
type batchConn struct {
	net.Conn
	mu   sync.Mutex
	buf  []byte
	open bool
}

const batchBytes = 64 << 10

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open {
		if len(b.buf)+len(p) > batchBytes {
			if err := b.flush(); err != nil {
				return 0, err
			}
		}
		if len(p) <= batchBytes {
			b.buf = append(b.buf, p...)
			return len(p), nil
		}
	}
	if err := b.flush(); err != nil {
		return 0, err
	}
	return b.Conn.Write(p)
}

// flush writes out what the buffer holds; b.mu is held.
func (b *batchConn) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

func (b *batchConn) begin() {
	b.mu.Lock()
	b.open = true
	b.mu.Unlock()
}

// end closes the batch and writes it out.
func (b *batchConn) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open = false
	return b.flush()
}

// batchWriter hands the WebSocket upgrader a connection wrapped in a
// batchConn.
type batchWriter struct {
	http.ResponseWriter
	conn *batchConn
}

func (w *batchWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the HTTP connection cannot be taken over for a WebSocket")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &batchConn{Conn: conn}
	return w.conn, rw, nil
}
