package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WSConfig bounds what one WebSocket connection may hold and be sent.
type WSConfig struct {
	MaxConns         int // open WebSocket connections; 256 (more are refused with HTTP 503)
	MaxSubscriptions int // live subscriptions per connection; 128
	// SendQueue bounds the answers, and separately the notifications,
	// queued for one connection; 1024. A client whose answers fill it
	// does not read and is disconnected; notifications that do not fit
	// are dropped for that connection alone.
	SendQueue int
	// NotifyBudget is how many notifications one event (a new head, a
	// new pending transaction) sends one connection; 4. A connection with
	// more subscriptions to the event's kind has them take turns, so that
	// what one event costs the node is bounded by the number of
	// connections, not of subscriptions.
	NotifyBudget int
	// NotifyPerEvent and NotifyRate bound the notifications all
	// subscribers together are sent: NotifyPerEvent (2) for each event,
	// plus NotifyRate (1,000) a second by the server's clock, at most a
	// second's worth held. Beyond them notifications are dropped, every
	// connection with the same chance to be served.
	NotifyPerEvent int
	NotifyRate     float64
	WriteTimeout   time.Duration // a client that does not take a message in this time is cut; 10s
}

func (c *WSConfig) fill() {
	if c.MaxConns <= 0 {
		c.MaxConns = 256
	}
	if c.MaxSubscriptions <= 0 {
		c.MaxSubscriptions = 128
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 1024
	}
	if c.NotifyBudget <= 0 {
		c.NotifyBudget = 4
	}
	if c.NotifyPerEvent <= 0 {
		c.NotifyPerEvent = 2
	}
	if c.NotifyRate <= 0 {
		c.NotifyRate = 1_000
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// The Origin header was checked by checkOrigin against --rpc.corsdomain.
	CheckOrigin: func(*http.Request) bool { return true },
}

// wsConn is one WebSocket client: a read loop that serves its calls in
// order and a write loop that drains a bounded queue of answers and
// notifications.
type wsConn struct {
	s     *Server
	conn  *websocket.Conn
	raw   *batchConn
	wake  chan struct{} // one token: the queue has something for the write loop
	done  chan struct{}
	close sync.Once

	topicMu sync.Mutex // serialises c's entries in the hub; taken before the hub's and c.mu

	mu      sync.Mutex // guards what follows
	subs    map[string]*subscription
	active  [numTopics][]string // ids of the active subscriptions by topic: replaced, never changed in place
	turn    [numTopics]int      // where the next notification of a topic starts taking turns
	pending int                 // subscriptions not yet active
	out     []outMsg
	answers int // answers in out
	notes   int // notifications in out
	dropped uint64
}

type subscription struct {
	id     string
	topic  topic
	active bool // set once the client has been sent the subscription id
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	// Take a slot before answering the upgrade, so that the limit holds
	// for every connection the client sees accepted.
	s.connMu.Lock()
	full := len(s.conns)+s.upgrading >= s.cfg.WS.MaxConns
	if !full {
		s.upgrading++
	}
	s.connMu.Unlock()
	if full {
		http.Error(w, fmt.Sprintf("too many WebSocket connections (the limit is %d)", s.cfg.WS.MaxConns), http.StatusServiceUnavailable)
		return
	}
	bw := &batchWriter{ResponseWriter: w}
	conn, err := upgrader.Upgrade(bw, r, nil)
	if err != nil {
		s.connMu.Lock()
		s.upgrading--
		s.connMu.Unlock()
		s.log.Debug("WebSocket upgrade failed", "err", err)
		return
	}
	conn.SetReadLimit(s.cfg.MaxBodyBytes)
	c := &wsConn{s: s, conn: conn, raw: bw.conn, wake: make(chan struct{}, 1), done: make(chan struct{}), subs: make(map[string]*subscription)}
	if !s.track(c) {
		conn.Close()
		return
	}
	go c.writeLoop()
	c.readLoop()
}

// track registers c, which holds a slot taken by serveWS, so that Close can
// disconnect it; false once closed.
func (s *Server) track(c *wsConn) bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	s.upgrading--
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[*wsConn]struct{})
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2) // the read and write loops
	return true
}

// Close disconnects every WebSocket client and refuses new ones. HTTP
// requests are stopped by the http.Server that serves s.
func (s *Server) Close() {
	s.connMu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.connMu.Unlock()
	for c := range conns {
		c.shutdown()
	}
	s.wg.Wait()
}

type connKey struct{}

// connFrom returns the WebSocket connection a call arrived on, if any.
func connFrom(ctx context.Context) (*wsConn, bool) {
	c, ok := ctx.Value(connKey{}).(*wsConn)
	return c, ok
}

func (c *wsConn) readLoop() {
	defer c.s.wg.Done()
	defer c.shutdown()
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), connKey{}, c))
	defer cancel()
	go func() {
		<-c.done
		cancel()
	}()
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if out := c.s.handleBody(ctx, msg); out != nil && !c.queue(out) {
			return
		}
		c.activate()
	}
}

func (c *wsConn) writeLoop() {
	defer c.s.wg.Done()
	defer c.shutdown()
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.mu.Lock()
		out := c.out
		c.out, c.answers, c.notes = nil, 0, 0
		c.mu.Unlock()
		if err := c.write(out); err != nil {
			c.s.log.Debug("WebSocket write failed", "remote", c.conn.RemoteAddr(), "err", err)
			return
		}
	}
}

// write sends out in one batch: each answer, and each notification once
// per subscription it is for.
func (c *wsConn) write(out []outMsg) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.s.cfg.WS.WriteTimeout))
	c.raw.begin()
	for _, m := range out {
		if m.subs == nil {
			if err := c.conn.WriteMessage(websocket.TextMessage, m.data); err != nil {
				return err
			}
			continue
		}
		for _, id := range m.subs {
			w, err := c.conn.NextWriter(websocket.TextMessage)
			if err != nil {
				return err
			}
			w.Write(notePrefix)
			w.Write([]byte(id))
			w.Write(noteMiddle)
			w.Write(m.data)
			w.Write(noteSuffix)
			if err := w.Close(); err != nil {
				return err
			}
		}
	}
	return c.raw.end()
}

// queue hands an answer to the write loop; a queue full of answers means
// the client does not read, and it is disconnected.
func (c *wsConn) queue(msg []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	c.mu.Lock()
	full := c.answers >= c.s.cfg.WS.SendQueue
	if !full {
		c.out = append(c.out, outMsg{data: msg})
		c.answers++
	}
	c.mu.Unlock()
	if full {
		c.s.log.Warn("WebSocket client does not read its answers; disconnecting", "remote", c.conn.RemoteAddr(), "queued", c.s.cfg.WS.SendQueue)
		reason := websocket.FormatCloseMessage(websocket.ClosePolicyViolation, fmt.Sprintf("%d answers queued: the client does not read them", c.s.cfg.WS.SendQueue))
		c.conn.WriteControl(websocket.CloseMessage, reason, time.Now().Add(time.Second))
		c.shutdown()
		return false
	}
	c.wakeWriter()
	return true
}

func (c *wsConn) shutdown() {
	c.close.Do(func() {
		close(c.done)
		c.conn.Close()
		c.topicMu.Lock()
		c.mu.Lock()
		c.subs = nil
		c.active = [numTopics][]string{}
		dropped := c.dropped
		c.mu.Unlock()
		for t := range numTopics {
			c.s.hub.set(t, c, false)
		}
		c.topicMu.Unlock()
		if dropped > 0 {
			c.s.log.Info("WebSocket subscriber disconnected", "remote", c.conn.RemoteAddr(), "droppedNotifications", dropped)
		}
		c.s.connMu.Lock()
		delete(c.s.conns, c)
		c.s.connMu.Unlock()
	})
}

var errSubscriptionLimit = errors.New("too many subscriptions on this connection")

// subscribe adds a subscription to t whose notifications start once the
// answer carrying its id has been queued (activate).
func (c *wsConn) subscribe(t topic) (string, error) {
	var b [16]byte
	rand.Read(b[:])
	sub := &subscription{id: "0x" + hex.EncodeToString(b[:]), topic: t}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs == nil {
		return "", errors.New("connection closed")
	}
	if len(c.subs) >= c.s.cfg.WS.MaxSubscriptions {
		return "", newError(CodeServerError, KindLimit, fmt.Sprintf("%v (the limit is %d)", errSubscriptionLimit, c.s.cfg.WS.MaxSubscriptions))
	}
	c.subs[sub.id] = sub
	c.pending++
	return sub.id, nil
}

// unsubscribe ends the subscription id; false if there is none.
func (c *wsConn) unsubscribe(id string) bool {
	c.topicMu.Lock()
	defer c.topicMu.Unlock()
	c.mu.Lock()
	sub, ok := c.subs[id]
	delete(c.subs, id)
	var empty bool
	if ok && !sub.active {
		c.pending--
	}
	if ok && sub.active {
		ids := make([]string, 0, len(c.active[sub.topic]))
		for _, other := range c.active[sub.topic] {
			if other != id {
				ids = append(ids, other)
			}
		}
		c.active[sub.topic] = ids
		empty = len(ids) == 0
	}
	c.mu.Unlock()
	if empty {
		c.s.hub.set(sub.topic, c, false)
	}
	return ok
}

// activate starts the notifications of the subscriptions whose ids have
// been queued.
func (c *wsConn) activate() {
	c.topicMu.Lock()
	defer c.topicMu.Unlock()
	var started [numTopics]bool
	c.mu.Lock()
	if c.pending == 0 {
		c.mu.Unlock()
		return
	}
	c.pending = 0
	for _, sub := range c.subs {
		if !sub.active {
			sub.active = true
			c.active[sub.topic] = append(c.active[sub.topic][:len(c.active[sub.topic]):len(c.active[sub.topic])], sub.id)
			started[sub.topic] = true
		}
	}
	c.mu.Unlock()
	for t, on := range started {
		if on {
			c.s.hub.set(topic(t), c, true)
		}
	}
}
