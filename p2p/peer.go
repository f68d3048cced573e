package p2p

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/p2p/addrman"
	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/time/rate"
)

// Timing of a connection.
const (
	handshakeTimeout = 5 * time.Second
	// readTimeout cuts a peer that sends nothing, not even a ping, for this
	// long (peers ping every WriteTimeout/4, 2.5 s by default).
	readTimeout         = 30 * time.Second
	defaultWriteTimeout = 10 * time.Second
	requestTimeout      = 20 * time.Second
	knownCap            = 8192
	// pingRing is how many of our latest pings a pong may answer (a ping
	// or pong lost on a lossy testnet link is not an offence).
	pingRing = 8
)

// Per-peer budgets.
const (
	// maxQueuedBytes bounds the frames waiting to be written to one peer.
	// A broadcast that does not fit is dropped (the peer catches up by
	// sync); a response waits for room, and a peer that leaves it full for
	// WriteTimeout is cut.
	maxQueuedBytes = MaxFrameSize
	// maxOutstanding bounds our requests in flight to one peer.
	maxOutstanding = 8
)

// Peer is one connected node.
type Peer struct {
	srv     *Server
	conn    *Conn
	hello   *Hello
	inbound bool
	static  bool
	id      string // hex of the authenticated node id
	ip      string
	group   string // network group of ip (package addrman)

	// What inbound eviction weighs (evict.go): when the peer connected,
	// and when (unix nanoseconds) it last gave us a new block or
	// transaction.
	connectedAt time.Time
	lastBlock   atomic.Int64
	lastTx      atomic.Int64

	ctx       context.Context // done once the peer is closed or the server stops
	cancel    context.CancelFunc
	out       chan []byte // encoded frames
	queued    atomic.Int64
	drained   chan struct{} // signalled when the writer made room
	written   chan struct{} // closed when the writer has stopped
	closeOnce sync.Once
	reason    atomic.Value // string: why we closed
	dropped   atomic.Bool  // cut for an offence

	reqSlots  chan struct{} // our requests in flight
	announced atomic.Int32  // announced blocks being fetched from it
	txFetches atomic.Int32  // transaction fetches waiting or in flight

	mu          sync.Mutex
	head        common.Hash
	height      uint64
	weight      *big.Int
	pending     map[uint64]chan Msg
	knownBlocks *boundedSet
	knownTxs    *boundedSet
	// knownChannel holds the channel messages the peer sent or was sent;
	// limits are its budgets, by channel code.
	knownChannel *boundedSet
	limits       map[byte]*rate.Limiter

	pings    [pingRing]sentPing // our latest pings, guarded by mu
	nextPing int
	addrs    tokenBucket // addresses we take from it, guarded by mu

	addrsServed atomic.Bool // its GetAddrs was answered

	nextID   atomic.Uint64
	latency  atomic.Int64 // nanoseconds, last ping round trip
	lastPong atomic.Int64 // unix nanoseconds of the last answered ping (at first, of the connection)
}

// sentPing is one ping awaiting its pong.
type sentPing struct {
	nonce uint64
	at    time.Time // zero once answered
}

func newPeer(srv *Server, conn *Conn, hello *Hello, inbound, static bool) *Peer {
	ctx, cancel := context.WithCancel(srv.ctx)
	p := &Peer{
		srv: srv, conn: conn, hello: hello, inbound: inbound, static: static, id: conn.RemoteIDHex(),
		ip: hostOf(conn.RemoteAddr()), group: addrman.GroupOf(hostOf(conn.RemoteAddr())), connectedAt: srv.clock.Now(), ctx: ctx, cancel: cancel,
		out: make(chan []byte, 4096), drained: make(chan struct{}, 1), written: make(chan struct{}),
		reqSlots: make(chan struct{}, maxOutstanding),
		head:     hello.Head, height: hello.Height, weight: new(big.Int).Set(hello.Weight),
		pending: make(map[uint64]chan Msg), knownBlocks: newBoundedSet(knownCap), knownTxs: newBoundedSet(knownCap),
		limits: srv.newLimiters(),
	}
	if len(srv.channels) > 0 {
		p.knownChannel = newBoundedSet(knownCap) // left nil when no message can use it
	}
	p.lastPong.Store(srv.clock.Now().UnixNano())
	p.addrs = tokenBucket{tokens: maxAddrs, at: srv.clock.Now()}
	return p
}

// hostOf is the IP of addr.
func hostOf(addr net.Addr) string {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// short is an id shortened for logs.
func short(id string) string { return id[:min(len(id), 16)] }

// ID is the peer's node id (hex of its compressed public key).
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

// send queues m if it fits the peer's budget; it reports false when m was
// dropped (budget full, or the peer gone).
func (p *Peer) send(m Msg) bool {
	frame, err := EncodeMsg(m)
	if err != nil {
		p.srv.log.Error("Cannot encode message", "code", m.code(), "err", err)
		return false
	}
	return p.sendFrame(frame)
}

// sendFrame is send for a message already encoded.
func (p *Peer) sendFrame(frame []byte) bool {
	if p.ctx.Err() != nil || !p.fits(len(frame)) {
		return false
	}
	return p.enqueue(frame)
}

func (p *Peer) fits(n int) bool {
	q := p.queued.Load()
	return q == 0 || q+int64(n) <= maxQueuedBytes
}

func (p *Peer) enqueue(frame []byte) bool {
	select {
	case p.out <- frame:
		p.queued.Add(int64(len(frame)))
		return true
	default:
		return false
	}
}

// respond queues a response, waiting while the peer's queue is full; a peer
// that does not read for WriteTimeout is cut and scored down.
func (p *Peer) respond(m Msg) error {
	frame, err := EncodeMsg(m)
	if err != nil {
		p.srv.log.Error("Cannot encode response", "code", m.code(), "err", err)
		return nil // our failure, not the peer's
	}
	var timer <-chan time.Time
	for !p.fits(len(frame)) || !p.enqueue(frame) {
		if timer == nil {
			t := p.srv.clock.NewTimer(p.srv.cfg.WriteTimeout)
			defer t.Stop()
			timer = t.C()
		}
		select {
		case <-p.drained:
		case <-p.ctx.Done():
			return nil
		case <-timer:
			return errNotReading
		}
	}
	return nil
}

var (
	errNotReading  = errors.New("does not read what it asked for")
	errNoPong      = errors.New("does not read what we send")
	errPeerGone    = errors.New("peer disconnected")
	errReqTimeout  = errors.New("request timed out")
	errReqsPending = errors.New("too many requests in flight")
)

// request sends a request whose response carries the same ID and waits for
// it. When wait is false and maxOutstanding requests are in flight it fails
// at once with errReqsPending.
func (p *Peer) request(ctx context.Context, m Msg, id uint64, wait bool) (Msg, error) {
	select {
	case p.reqSlots <- struct{}{}:
	default:
		if !wait {
			return nil, errReqsPending
		}
		select {
		case p.reqSlots <- struct{}{}:
		case <-p.ctx.Done():
			return nil, errPeerGone
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-p.reqSlots }()
	ch := make(chan Msg, 1)
	p.mu.Lock()
	p.pending[id] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
	}()
	if err := p.respond(m); err != nil {
		return nil, err
	}
	timer := p.srv.clock.NewTimer(requestTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-p.ctx.Done():
		return nil, errPeerGone
	case <-timer.C():
		return nil, fmt.Errorf("peer %s: %w", short(p.id), errReqTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

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

// close disconnects, telling the peer why (the writer sends the reason and
// closes the connection).
func (p *Peer) close(reason string) {
	p.closeOnce.Do(func() {
		p.reason.Store(reason)
		p.cancel()
		p.conn.SetWriteDeadline(p.srv.clock.Now().Add(time.Second))
	})
}

// writeLoop writes queued frames until the peer is closed, then says why and
// closes the connection.
func (p *Peer) writeLoop() {
	defer close(p.written)
	defer p.conn.Close()
	for {
		select {
		case frame := <-p.out:
			p.conn.SetWriteDeadline(p.srv.clock.Now().Add(p.srv.cfg.WriteTimeout))
			err := p.conn.WriteFrame(frame)
			p.queued.Add(-int64(len(frame)))
			select {
			case p.drained <- struct{}{}:
			default:
			}
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) && p.ctx.Err() == nil {
					p.srv.penalise(p, scoreDrop, errNotReading.Error())
				}
				p.close("write failed: " + err.Error())
				return
			}
		case <-p.ctx.Done():
			reason, _ := p.reason.Load().(string)
			p.conn.SetWriteDeadline(p.srv.clock.Now().Add(time.Second))
			p.conn.WriteMsg(&Disconnect{Reason: truncate(reason)})
			return
		}
	}
}

// pingLoop pings the peer every WriteTimeout/4 and cuts it, scored down,
// once none of its pings has been answered for 2×WriteTimeout. A pong
// carries the random nonce of a ping, and the connection is in order, so
// only a peer that has read everything sent before that ping can answer it:
// this finds a peer that does not read even while the kernel's socket
// buffers still take what we write, where the write deadline cannot.
func (p *Peer) pingLoop() {
	clk, wt := p.srv.clock, p.srv.cfg.WriteTimeout
	t := clk.NewTicker(wt / 4)
	defer t.Stop()
	for {
		select {
		case <-t.C():
			now := clk.Now()
			if silent := now.Sub(time.Unix(0, p.lastPong.Load())); silent >= 2*wt {
				p.srv.penalise(p, scoreDrop, fmt.Sprintf("%v: no ping answered for %v", errNoPong, silent))
				return
			}
			p.ping(now)
		case <-p.ctx.Done():
			return
		}
	}
}

// ping sends a ping with a fresh random nonce and remembers it.
func (p *Peer) ping(now time.Time) {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	nonce := binary.BigEndian.Uint64(b[:])
	p.mu.Lock()
	p.pings[p.nextPing%pingRing] = sentPing{nonce: nonce, at: now}
	p.nextPing++
	p.mu.Unlock()
	p.send(&Ping{Nonce: nonce})
}

// ponged records the answer to one of our latest pings; any other pong is
// ignored.
func (p *Peer) ponged(nonce uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.pings {
		if sent := p.pings[i]; sent.nonce == nonce && !sent.at.IsZero() {
			p.pings[i].at = time.Time{}
			p.latency.Store(int64(now.Sub(sent.at)))
			p.lastPong.Store(now.UnixNano())
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

// truncate shortens a disconnect reason to what the wire allows.
func truncate(reason string) string {
	if len(reason) <= maxText {
		return reason
	}
	return reason[:maxText-3] + "..."
}
