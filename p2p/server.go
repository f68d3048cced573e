package p2p

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/p2p/addrman"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Config configures a Server.
type Config struct {
	Chain Chain // required
	Pool  Pool  // required
	// Key is the node key; its public key is the node id. Optional: a
	// random key for this run.
	Key *ecdsa.PrivateKey
	// Transport carries the connections; optional, TCP.
	Transport Transport
	// Clock times every timeout, ticker and ban; optional, clock.Real.
	Clock clock.Clock
	// ListenAddr is the address to accept peers on; "" does not listen.
	ListenAddr string
	// StaticPeers are dialled at start and redialled with backoff; they
	// take no peer slot. An address is host:port, or <id>@host:port to admit
	// only the node with that id (see ParseAddr).
	StaticPeers []string
	// Bootnodes are dialled while we have room; addresses as StaticPeers.
	Bootnodes []string
	// MaxPeers bounds the peers other than static ones; optional, 25. A
	// third of them (at least one) are kept for our own dials.
	MaxPeers int
	// MaxInboundPerIP bounds the inbound peers from one IP; optional, 8.
	MaxInboundPerIP int
	// TrustLoopback exempts loopback addresses from every per-IP and
	// per-group limit (inbound cap, connection rate, ids per IP, IP bans,
	// handshake places, outbound diversity, eviction). Without it loopback
	// is an address like any other. A local testnet whose nodes are all on
	// loopback addresses sets it.
	TrustLoopback bool
	// AnchorsFile keeps the outbound peers across restarts: written on
	// Close, read (and removed) on Start, whose first dials go to them.
	// Optional: "" keeps no anchors, nor does NoDiscover.
	AnchorsFile string
	// NoDiscover turns off dialling addresses learnt from peers, so that only
	// static peers and bootnodes are dialled (the testnet uses it, so that
	// its nodes connect to each other only, as it says).
	NoDiscover bool
	// BanDuration is how long a banned id or IP is refused; optional, 10
	// minutes.
	BanDuration time.Duration
	// WriteTimeout bounds how long a peer may leave what we send unread:
	// a frame not written to the connection within it, or a response that
	// waits that long for room in the peer's queue, cuts the peer, and so
	// does a peer that has answered none of our pings (sent every
	// WriteTimeout/4) for twice it, which catches a peer that does not
	// read while the kernel's socket buffers still take our writes.
	// Optional, 10 seconds. The connection's write deadline is wall-clock
	// time on TCP; the rest follows Clock.
	WriteTimeout time.Duration
	Logger       *slog.Logger // optional
	// Channels are the message types other components register (see
	// Channel); optional.
	Channels []Channel
	// SeenHeader, optional, is shown the header of every block and every
	// header a peer sends, before any check and whatever the chain then
	// makes of it (a block on an unknown parent, one that reverts the
	// finalized checkpoint): a slasher watches every branch there. It
	// must not block.
	SeenHeader func(*chain.Header)
	// SeenBlock, optional, is shown every block a peer sends whose bodies
	// (transactions and consensus body) match its header, before the chain
	// decides on it (a block on an unknown parent or reverting the
	// finalized checkpoint): a slasher records the votes in its consensus
	// body. It must not block.
	SeenBlock func(*chain.Block)
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID         string
	RemoteAddr string
	ListenAddr string
	Inbound    bool
	Head       common.Hash
	Height     uint64
	Weight     *big.Int
	Latency    time.Duration
}

// Timing of the server's loops.
const (
	maxRedialBackoff    = 5 * time.Second // a healed partition or restarted peer is back within seconds
	txBroadcastInterval = 50 * time.Millisecond
)

// Server runs the node's peer-to-peer side.
type Server struct {
	cfg    Config
	log    *slog.Logger
	chain  Chain
	pool   Pool
	clock  clock.Clock
	tr     Transport
	key    *ecdsa.PrivateKey
	nodeID []byte

	listener net.Listener
	ctx      context.Context // done on Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup // every goroutine the server starts

	mu         sync.Mutex
	handshakes map[net.Conn]*handshake // inbound connections in their handshake
	attempts   map[string]*tokenBucket // connection attempts by IP
	peers      map[string]*Peer        // by node id
	score      map[string]int          // by node id
	bannedID   map[string]time.Time
	bannedIP   map[string]time.Time
	ips        map[string]*ipRecord
	inflight   map[common.Hash]bool // announced blocks being fetched

	book     *addrman.Book
	evictKey addrman.Key     // secret: which network groups inbound eviction protects
	dialing  map[string]bool // outbound dials in flight, by address
	// lingering counts refused connections waiting to be closed
	// (refuseEarly).
	lingering atomic.Int32
	txQueue   chan common.Hash
	syncer    *syncer
	started   bool

	channels map[byte]*Channel // Config.Channels by code
}

// New returns a server; Start opens the listener and dials peers.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil || cfg.Pool == nil {
		return nil, errors.New("p2p: Chain and Pool are required")
	}
	for _, addr := range slices.Concat(cfg.StaticPeers, cfg.Bootnodes) {
		if _, _, err := ParseAddr(addr); err != nil {
			return nil, fmt.Errorf("p2p: %w", err)
		}
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 25
	}
	if cfg.MaxInboundPerIP <= 0 {
		cfg.MaxInboundPerIP = 8
	}
	if cfg.BanDuration <= 0 {
		cfg.BanDuration = 10 * time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = defaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Transport == nil {
		cfg.Transport = TCPFor(cfg.ListenAddr)
	}
	if cfg.Key == nil {
		key, err := crypto.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("p2p: node key: %w", err)
		}
		cfg.Key = key
	}
	channels, err := channelTable(cfg.Channels)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, log: cfg.Logger, chain: cfg.Chain, pool: cfg.Pool, clock: clock.OrReal(cfg.Clock), tr: cfg.Transport,
		key: cfg.Key, nodeID: NodeIDOf(cfg.Key), ctx: ctx, cancel: cancel,
		handshakes: make(map[net.Conn]*handshake), attempts: make(map[string]*tokenBucket), dialing: make(map[string]bool),
		peers: make(map[string]*Peer), score: make(map[string]int), bannedID: make(map[string]time.Time),
		bannedIP: make(map[string]time.Time), ips: make(map[string]*ipRecord), inflight: make(map[common.Hash]bool),
		txQueue: make(chan common.Hash, 65536),
	}
	var bookKey addrman.Key
	rand.Read(bookKey[:]) // never fails (crypto/rand)
	rand.Read(s.evictKey[:])
	s.book = addrman.New(addrman.Config{Key: bookKey})
	s.syncer = newSyncer(s)
	s.channels = channels
	return s, nil
}

// spawn runs f in a goroutine that Close waits for.
func (s *Server) spawn(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Start listens (if configured), dials the static peers and bootnodes, and
// starts relaying.
func (s *Server) Start() error {
	if s.cfg.ListenAddr != "" {
		ln, err := s.tr.Listen(s.cfg.ListenAddr)
		if err != nil {
			return fmt.Errorf("p2p: %w", err)
		}
		s.listener = ln
		s.spawn(s.acceptLoop)
	}
	if err := s.loadAnchors(); err != nil {
		return fmt.Errorf("p2p: %w", err)
	}
	s.chain.Subscribe(s.onHead)
	s.pool.SubscribeNewTxs(s.onPoolTxs)
	for _, addr := range s.cfg.StaticPeers {
		s.spawn(func() { s.staticDialLoop(addr) })
	}
	s.started = true
	s.spawn(s.discoverLoop)
	s.spawn(s.feelerLoop)
	s.spawn(s.txBroadcastLoop)
	s.spawn(s.syncer.loop)
	return nil
}

// Started reports whether Start succeeded.
func (s *Server) Started() bool { return s.started }

// Addr is the listen address, or "" when not listening.
func (s *Server) Addr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// NodeID is this node's id: the hex of its compressed public key.
func (s *Server) NodeID() string { return hex.EncodeToString(s.nodeID) }

// Close disconnects every peer, stops the server and waits for every
// goroutine it started.
func (s *Server) Close() {
	s.saveAnchors()
	s.cancel()
	if s.listener != nil {
		s.listener.Close()
	}
	s.mu.Lock()
	for _, p := range s.peers {
		p.close("node shutting down")
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) acceptLoop() {
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.log.Warn("Accept failed", "err", err)
			clock.Sleep(s.ctx, s.clock, 100*time.Millisecond)
			continue
		}
		if reason := s.admitInbound(conn); reason != "" {
			s.refuseEarly(conn, reason)
			continue
		}
		s.spawn(func() { s.runConn(conn, true, false, nil) })
	}
}

// AddPeer dials addr (host:port or <id>@host:port) once in the background.
func (s *Server) AddPeer(addr string) error {
	if _, _, err := ParseAddr(addr); err != nil {
		return err
	}
	s.spawn(func() {
		if err := s.dial(addr, false); err != nil {
			s.log.Info("Dial failed", "addr", addr, "err", err)
		}
	})
	return nil
}

// dial connects to addr and runs the connection until it ends; an address
// with an id admits only the node that proves it.
func (s *Server) dial(addr string, static bool) error {
	want, hostport, err := ParseAddr(addr)
	if err != nil {
		return err
	}
	if !static {
		s.book.Attempt(addr, s.clock.Now())
	}
	conn, err := s.tr.Dial(s.ctx, hostport)
	if err != nil {
		return err
	}
	return s.runConn(conn, false, static, want)
}

// staticDialLoop keeps a connection to addr, redialling with backoff.
func (s *Server) staticDialLoop(addr string) {
	backoff := 500 * time.Millisecond
	for s.ctx.Err() == nil {
		start := s.clock.Now()
		err := s.dial(addr, true)
		if s.clock.Now().Sub(start) > 10*time.Second {
			backoff = 500 * time.Millisecond // it was up for a while
		}
		if err != nil && s.ctx.Err() == nil {
			s.log.Debug("Static peer unreachable", "addr", addr, "err", err, "retry_in", backoff)
		}
		if clock.Sleep(s.ctx, s.clock, backoff) != nil {
			return
		}
		backoff = min(backoff*2, maxRedialBackoff)
	}
}

// pruneBans forgets bans that have run out.
func (s *Server) pruneBans() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for _, m := range []map[string]time.Time{s.bannedID, s.bannedIP} {
		for k, until := range m {
			if !now.Before(until) {
				delete(m, k)
			}
		}
	}
}

// Peers describes the connected peers, sorted by id.
func (s *Server) Peers() []PeerInfo {
	peers := s.peerList()
	out := make([]PeerInfo, len(peers))
	for i, p := range peers {
		head, height, weight := p.Head()
		out[i] = PeerInfo{ID: p.id, RemoteAddr: p.conn.RemoteAddr().String(), ListenAddr: p.hello.ListenAddr, Inbound: p.inbound,
			Head: head, Height: height, Weight: weight, Latency: time.Duration(p.latency.Load())}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PeerCount is the number of connected peers.
func (s *Server) PeerCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
}

func (s *Server) peerList() []*Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Peer, 0, len(s.peers))
	for _, p := range s.peers {
		out = append(out, p)
	}
	return out
}
