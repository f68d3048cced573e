package p2p

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Timing of a connection.
const (
	handshakeTimeout = 5 * time.Second
	pingInterval     = 10 * time.Second
	readTimeout      = 3 * pingInterval
	writeTimeout     = 10 * time.Second
	requestTimeout   = 20 * time.Second
	sendQueue        = 1024
	knownCap         = 8192
)

// Peer is one connected node.
type Peer struct {
	srv     *Server
	conn    net.Conn
	hello   *Hello
	inbound bool
	id      string

	out       chan Msg
	closed    chan struct{}
	closeOnce sync.Once
	reason    atomic.Value // string: why we closed

	mu          sync.Mutex
	head        common.Hash
	height      uint64
	weight      *big.Int
	pending     map[uint64]chan Msg
	knownBlocks *boundedSet
	knownTxs    *boundedSet

	nextID    atomic.Uint64
	latency   atomic.Int64 // nanoseconds, last ping round trip
	pingNonce atomic.Uint64
	pingSent  atomic.Int64
}

func newPeer(srv *Server, conn net.Conn, hello *Hello, inbound bool) *Peer {
	return &Peer{
		srv: srv, conn: conn, hello: hello, inbound: inbound, id: shortID(hello.NodeID),
		out: make(chan Msg, sendQueue), closed: make(chan struct{}),
		head: hello.Head, height: hello.Height, weight: new(big.Int).Set(hello.Weight),
		pending: make(map[uint64]chan Msg), knownBlocks: newBoundedSet(knownCap), knownTxs: newBoundedSet(knownCap),
	}
}

func shortID(id common.Hash) string { return fmt.Sprintf("%x", id[:8]) }

// ID is the peer's node id (hex, shortened).
func (p *Peer) ID() string { return p.id }

// Head returns the best block the peer told us about.
func (p *Peer) Head() (common.Hash, uint64, *big.Int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.head, p.height, new(big.Int).Set(p.weight)
}

// setHead records a block the peer has, if its branch is heavier.
func (p *Peer) setHead(hash common.Hash, height uint64, weight *big.Int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if weight.Cmp(p.weight) > 0 {
		p.head, p.height, p.weight = hash, height, new(big.Int).Set(weight)
	}
}

// send queues m; it reports false when the queue is full or the peer gone.
func (p *Peer) send(m Msg) bool {
	select {
	case p.out <- m:
		return true
	case <-p.closed:
		return false
	default:
		return false
	}
}

// request sends a request whose response carries the same ID and waits.
func (p *Peer) request(ctx context.Context, m Msg, id uint64) (Msg, error) {
	ch := make(chan Msg, 1)
	p.mu.Lock()
	p.pending[id] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
	}()
	select {
	case p.out <- m:
	case <-p.closed:
		return nil, errPeerGone
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	timer := time.NewTimer(requestTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-p.closed:
		return nil, errPeerGone
	case <-timer.C:
		return nil, fmt.Errorf("peer %s: request timed out", p.id)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var errPeerGone = errors.New("peer disconnected")

// deliver hands a response to its waiting request; unknown IDs are dropped.
func (p *Peer) deliver(id uint64, m Msg) {
	p.mu.Lock()
	ch := p.pending[id]
	p.mu.Unlock()
	if ch != nil {
		select {
		case ch <- m:
		default:
		}
	}
}

// close disconnects, telling the peer why.
func (p *Peer) close(reason string) {
	p.closeOnce.Do(func() {
		p.reason.Store(reason)
		p.conn.SetWriteDeadline(time.Now().Add(time.Second))
		WriteMsg(p.conn, &Disconnect{Reason: truncate(reason)})
		close(p.closed)
		p.conn.Close()
	})
}

func (p *Peer) writeLoop() {
	for {
		select {
		case m := <-p.out:
			p.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := WriteMsg(p.conn, m); err != nil {
				p.close("write failed: " + err.Error())
				return
			}
		case <-p.closed:
			return
		}
	}
}

func (p *Peer) pingLoop() {
	t := time.NewTicker(pingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n := p.pingNonce.Add(1)
			p.pingSent.Store(time.Now().UnixNano())
			p.send(&Ping{Nonce: n})
		case <-p.closed:
			return
		}
	}
}

// boundedSet remembers up to cap hashes, forgetting the oldest.
type boundedSet struct {
	mu    sync.Mutex
	set   map[common.Hash]struct{}
	order []common.Hash
	cap   int
}

func newBoundedSet(cap int) *boundedSet {
	return &boundedSet{set: make(map[common.Hash]struct{}, cap), cap: cap}
}

// add inserts h and reports whether it was new.
func (s *boundedSet) add(h common.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[h]; ok {
		return false
	}
	if len(s.order) >= s.cap {
		delete(s.set, s.order[0])
		s.order = s.order[1:]
	}
	s.set[h] = struct{}{}
	s.order = append(s.order, h)
	return true
}

func (s *boundedSet) has(h common.Hash) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[h]
	return ok
}

// truncate shortens a disconnect reason to what the wire allows.
func truncate(reason string) string {
	if len(reason) <= maxText {
		return reason
	}
	return reason[:maxText-3] + "..."
}
