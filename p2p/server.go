package p2p

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
)

// Config configures a Server.
type Config struct {
	Chain *chain.Chain  // required
	Pool  *mempool.Pool // required
	// ListenAddr is the TCP address to accept peers on; "" does not listen.
	ListenAddr string
	// StaticPeers are dialled at start and redialled with backoff.
	StaticPeers []string
	// Bootnodes seed the address book; they are dialled while we have room.
	Bootnodes []string
	// MaxPeers bounds the connections; optional, 25.
	MaxPeers int
	// NoDiscover turns off dialling addresses learnt from peers, so that only
	// static peers and bootnodes are dialled (the testnet uses it to keep
	// every link going through its proxies).
	NoDiscover bool
	// BanDuration is how long a peer that misbehaved twice is refused;
	// optional, 10 minutes.
	BanDuration time.Duration
	Logger      *slog.Logger // optional
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

// Server runs the node's peer-to-peer side.
type Server struct {
	cfg    Config
	log    *slog.Logger
	chain  *chain.Chain
	pool   *mempool.Pool
	nodeID common.Hash

	listener net.Listener
	quit     chan struct{}
	wg       sync.WaitGroup

	mu        sync.Mutex
	peers     map[string]*Peer // by node id
	addrBook  map[string]bool  // listen addresses learnt; true once dialled
	offences  map[string]int   // by node id and by listen address
	bannedTil map[string]time.Time
	inflight  map[common.Hash]bool // blocks being fetched after an announcement

	txQueue chan common.Hash
	syncer  *syncer
	started bool
}

// New returns a server; Start opens the listener and dials peers.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil || cfg.Pool == nil {
		return nil, errors.New("p2p: Chain and Pool are required")
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = 25
	}
	if cfg.BanDuration <= 0 {
		cfg.BanDuration = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, chain: cfg.Chain, pool: cfg.Pool,
		quit: make(chan struct{}), peers: make(map[string]*Peer), addrBook: make(map[string]bool),
		offences: make(map[string]int), bannedTil: make(map[string]time.Time), inflight: make(map[common.Hash]bool),
		txQueue: make(chan common.Hash, 65536),
	}
	if _, err := rand.Read(s.nodeID[:]); err != nil {
		return nil, fmt.Errorf("p2p: node id: %w", err)
	}
	s.syncer = newSyncer(s)
	return s, nil
}

// Start listens (if configured), dials the static peers and bootnodes, and
// starts relaying.
func (s *Server) Start() error {
	if s.cfg.ListenAddr != "" {
		ln, err := net.Listen("tcp", s.cfg.ListenAddr)
		if err != nil {
			return fmt.Errorf("p2p: listen on %s: %w", s.cfg.ListenAddr, err)
		}
		s.listener = ln
		s.wg.Add(1)
		go s.acceptLoop()
	}
	s.chain.Subscribe(s.onHead)
	s.pool.SubscribeNewTxs(s.onNewTxs)
	for _, addr := range s.cfg.StaticPeers {
		s.wg.Add(1)
		go s.staticDialLoop(addr)
	}
	s.mu.Lock()
	for _, addr := range s.cfg.Bootnodes {
		s.addrBook[addr] = false
	}
	s.mu.Unlock()
	s.started = true
	s.wg.Add(3)
	go s.discoverLoop()
	go s.txBroadcastLoop()
	go s.syncer.loop()
	return nil
}

// SetListenAddr changes the listen address before Start.
func (s *Server) SetListenAddr(addr string) { s.cfg.ListenAddr = addr }

// Started reports whether Start succeeded.
func (s *Server) Started() bool { return s.started }

// Addr is the listen address, or "" when not listening.
func (s *Server) Addr() string {
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr().String()
}

// NodeID is this node's random identity for this run.
func (s *Server) NodeID() string { return shortID(s.nodeID) }

// Close disconnects every peer and stops the server.
func (s *Server) Close() {
	close(s.quit)
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

func (s *Server) stopped() bool {
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			if s.stopped() {
				return
			}
			s.log.Warn("Accept failed", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runConn(conn, true)
		}()
	}
}

// AddPeer dials addr once in the background and remembers it.
func (s *Server) AddPeer(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("peer address %q: %w", addr, err)
	}
	s.mu.Lock()
	s.addrBook[addr] = true
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.dial(addr); err != nil {
			s.log.Info("Dial failed", "addr", addr, "err", err)
		}
	}()
	return nil
}

// dial connects to addr and runs the connection until it ends.
func (s *Server) dial(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	return s.runConn(conn, false)
}

// maxRedialBackoff caps the wait between dials of a static peer, so that a
// healed partition or a restarted peer is back within seconds.
const maxRedialBackoff = 5 * time.Second

// staticDialLoop keeps a connection to addr, redialling with backoff.
func (s *Server) staticDialLoop(addr string) {
	defer s.wg.Done()
	backoff := 500 * time.Millisecond
	for !s.stopped() {
		start := time.Now()
		err := s.dial(addr)
		if time.Since(start) > 10*time.Second {
			backoff = 500 * time.Millisecond // it was up for a while
		}
		if err != nil && !s.stopped() {
			s.log.Debug("Static peer unreachable", "addr", addr, "err", err, "retry_in", backoff)
		}
		select {
		case <-s.quit:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxRedialBackoff)
	}
}

// discoverLoop dials addresses from the address book while there is room.
func (s *Server) discoverLoop() {
	defer s.wg.Done()
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		for _, addr := range s.dialCandidates() {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.dial(addr)
			}()
		}
	}
}

func (s *Server) dialCandidates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	room := s.cfg.MaxPeers - len(s.peers)
	connected := make(map[string]bool)
	for _, p := range s.peers {
		connected[p.hello.ListenAddr] = true
	}
	var out []string
	for addr, dialled := range s.addrBook {
		if room <= 0 {
			break
		}
		bootnode := slices.Contains(s.cfg.Bootnodes, addr)
		if connected[addr] || addr == s.Addr() || (s.cfg.NoDiscover && !bootnode) || (dialled && !bootnode) {
			continue
		}
		s.addrBook[addr] = true
		out = append(out, addr)
		room--
	}
	return out
}

func (s *Server) ourHello() *Hello {
	head := s.chain.Head()
	return &Hello{
		Version: ProtocolVersion, ChainID: s.chain.Genesis().ChainID, Genesis: s.chain.GenesisHeader().Hash(),
		Head: head.Hash(), Height: head.Height(), Weight: s.chain.HeadWeight(), ListenAddr: s.Addr(), NodeID: s.nodeID,
	}
}

// runConn does the handshake and serves the peer until it disconnects.
func (s *Server) runConn(conn net.Conn, inbound bool) error {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := WriteMsg(conn, s.ourHello()); err != nil {
		return fmt.Errorf("handshake with %s: %w", conn.RemoteAddr(), err)
	}
	m, err := ReadMsg(conn)
	if err != nil {
		return fmt.Errorf("handshake with %s: %w", conn.RemoteAddr(), err)
	}
	hello, ok := m.(*Hello)
	if !ok {
		if d, isDisc := m.(*Disconnect); isDisc {
			s.log.Warn("Peer refused us", "addr", conn.RemoteAddr(), "reason", d.Reason)
			return fmt.Errorf("refused by %s: %s", conn.RemoteAddr(), d.Reason)
		}
		return s.refuse(conn, fmt.Sprintf("expected hello, got message %d", m.code()))
	}
	if reason := s.checkHello(hello); reason != "" {
		return s.refuse(conn, reason)
	}
	p := newPeer(s, conn, hello, inbound)
	if reason := s.register(p); reason != "" {
		return s.refuse(conn, reason)
	}
	conn.SetDeadline(time.Time{})
	s.log.Info("Peer connected", "id", p.id, "addr", conn.RemoteAddr(), "inbound", inbound, "height", hello.Height)
	go p.writeLoop()
	go p.pingLoop()
	p.send(&GetAddrs{})
	s.announcePool(p)
	s.syncer.trigger()
	err = s.readLoop(p)
	p.close(errString(err))
	s.unregister(p)
	reason, _ := p.reason.Load().(string)
	s.log.Info("Peer disconnected", "id", p.id, "addr", conn.RemoteAddr(), "reason", reason)
	return err
}

func errString(err error) string {
	if err == nil {
		return "closed"
	}
	return err.Error()
}

// refuse tells the other side why and closes; both sides log the reason.
func (s *Server) refuse(conn net.Conn, reason string) error {
	s.log.Warn("Refused peer", "addr", conn.RemoteAddr(), "reason", reason)
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	WriteMsg(conn, &Disconnect{Reason: truncate(reason)})
	return errors.New(reason)
}

func (s *Server) checkHello(h *Hello) string {
	switch {
	case h.Version != ProtocolVersion:
		return fmt.Sprintf("protocol version %d, want %d", h.Version, ProtocolVersion)
	case h.ChainID != s.chain.Genesis().ChainID:
		return fmt.Sprintf("chain id %d, want %d", h.ChainID, s.chain.Genesis().ChainID)
	case h.Genesis != s.chain.GenesisHeader().Hash():
		return fmt.Sprintf("genesis %x, want %x", h.Genesis, s.chain.GenesisHeader().Hash())
	case h.NodeID == s.nodeID:
		return "connected to self"
	}
	return ""
}

func (s *Server) register(p *Peer) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for _, k := range []string{p.id, p.hello.ListenAddr} {
		if until, ok := s.bannedTil[k]; ok && k != "" && now.Before(until) {
			return "banned until " + until.Format(time.RFC3339)
		}
	}
	if _, dup := s.peers[p.id]; dup {
		return "already connected"
	}
	if len(s.peers) >= s.cfg.MaxPeers {
		return "too many peers"
	}
	s.peers[p.id] = p
	if p.hello.ListenAddr != "" {
		s.addrBook[p.hello.ListenAddr] = true
	}
	return ""
}

func (s *Server) unregister(p *Peer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.peers[p.id] == p {
		delete(s.peers, p.id)
	}
}

// misbehaved drops p for sending invalid data; a second offence bans it.
// Nothing p sent has changed the chain or the mempool by then.
func (s *Server) misbehaved(p *Peer, reason string) {
	s.mu.Lock()
	keys := []string{p.id}
	if p.hello.ListenAddr != "" {
		keys = append(keys, p.hello.ListenAddr)
	}
	banned := false
	for _, k := range keys {
		s.offences[k]++
		if s.offences[k] >= 2 {
			s.bannedTil[k] = time.Now().Add(s.cfg.BanDuration)
			banned = true
		}
	}
	s.mu.Unlock()
	s.log.Warn("Peer misbehaved", "id", p.id, "addr", p.conn.RemoteAddr(), "reason", reason, "banned", banned)
	p.close("misbehaviour: " + reason)
}

// Peers describes the connected peers, sorted by id.
func (s *Server) Peers() []PeerInfo {
	s.mu.Lock()
	peers := make([]*Peer, 0, len(s.peers))
	for _, p := range s.peers {
		peers = append(peers, p)
	}
	s.mu.Unlock()
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
