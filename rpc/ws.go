package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WSConfig bounds what one WebSocket connection may hold.
type WSConfig struct {
	MaxConns         int           // open WebSocket connections; 256 (more are refused with HTTP 503)
	MaxSubscriptions int           // live subscriptions per connection; 128
	SendQueue        int           // answers and notifications queued per connection; 1024
	WriteTimeout     time.Duration // a client that does not take a message in this time is cut; 10s
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
// order and a write loop that drains a bounded queue. A client that lets
// the queue fill (it does not read) is disconnected.
type wsConn struct {
	s     *Server
	conn  *websocket.Conn
	send  chan []byte
	done  chan struct{}
	close sync.Once

	mu   sync.Mutex
	subs map[string]*subscription
}

type subscription struct {
	id     string
	active bool   // set once the client has been sent the subscription id
	cancel func() // detaches it from its feed
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
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.connMu.Lock()
		s.upgrading--
		s.connMu.Unlock()
		s.log.Debug("WebSocket upgrade failed", "err", err)
		return
	}
	conn.SetReadLimit(s.cfg.MaxBodyBytes)
	c := &wsConn{s: s, conn: conn, send: make(chan []byte, s.cfg.WS.SendQueue), done: make(chan struct{}), subs: make(map[string]*subscription)}
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
		case msg := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(c.s.cfg.WS.WriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-c.done:
			return
		}
	}
}

// queue hands msg to the write loop; a full queue means the client does not
// read, and it is disconnected.
func (c *wsConn) queue(msg []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- msg:
		return true
	default:
		c.s.log.Warn("WebSocket client does not read its messages; disconnecting", "remote", c.conn.RemoteAddr(), "queued", len(c.send))
		c.shutdown()
		return false
	}
}

func (c *wsConn) shutdown() {
	c.close.Do(func() {
		close(c.done)
		c.conn.Close()
		c.mu.Lock()
		subs := c.subs
		c.subs = nil
		c.mu.Unlock()
		for _, sub := range subs {
			sub.cancel()
		}
		c.s.connMu.Lock()
		delete(c.s.conns, c)
		c.s.connMu.Unlock()
	})
}

var errSubscriptionLimit = errors.New("too many subscriptions on this connection")

// subscribe adds a subscription whose notifications start once the answer
// carrying its id has been queued. attach connects it to a feed and returns
// the function that detaches it.
func (c *wsConn) subscribe(attach func(notify func(result any)) (cancel func())) (string, error) {
	var b [16]byte
	rand.Read(b[:])
	sub := &subscription{id: "0x" + hex.EncodeToString(b[:])}
	// Attach first: notify drops everything until sub is registered and
	// active, and a registered sub always has its cancel.
	sub.cancel = attach(func(result any) { c.notify(sub, result) })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs == nil {
		sub.cancel()
		return "", errors.New("connection closed")
	}
	if len(c.subs) >= c.s.cfg.WS.MaxSubscriptions {
		sub.cancel()
		return "", newError(CodeServerError, KindLimit, fmt.Sprintf("%v (the limit is %d)", errSubscriptionLimit, c.s.cfg.WS.MaxSubscriptions))
	}
	c.subs[sub.id] = sub
	return sub.id, nil
}

// unsubscribe ends the subscription id; false if there is none.
func (c *wsConn) unsubscribe(id string) bool {
	c.mu.Lock()
	sub, ok := c.subs[id]
	delete(c.subs, id)
	c.mu.Unlock()
	if ok {
		sub.cancel()
	}
	return ok
}

func (c *wsConn) activate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sub := range c.subs {
		sub.active = true
	}
}

type notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  struct {
		Subscription string `json:"subscription"`
		Result       any    `json:"result"`
	} `json:"params"`
}

func (c *wsConn) notify(sub *subscription, result any) {
	c.mu.Lock()
	live := c.subs[sub.id] == sub && sub.active
	c.mu.Unlock()
	if !live {
		return
	}
	n := notification{JSONRPC: "2.0", Method: "eth_subscription"}
	n.Params.Subscription, n.Params.Result = sub.id, result
	msg, err := json.Marshal(n)
	if err != nil {
		c.s.log.Error("notification not encoded", "err", err)
		return
	}
	c.queue(msg)
}
