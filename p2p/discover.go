package p2p

import (
	"net"
	"slices"
	"time"

	"github.com/chaind/chaind/p2p/addrman"
)

// Discovery: dials to the address book (package addrman), feelers and
// anchors.
const (
	discoverInterval = 2 * time.Second
	// dialsPerRound bounds the dials per discovery round, so that addresses
	// fed to us cannot make us dial at will.
	dialsPerRound = 2
	// feelerInterval is how often a feeler connection tests an address of
	// the new table (or a tried address a collision would displace): it
	// completes the handshake, moves the address to tried and hangs up.
	feelerInterval = 2 * time.Minute
	// addrInterval: after the reply to our GetAddrs (maxAddrs addresses),
	// a peer's addresses are taken at one per addrInterval, as Bitcoin
	// Core's 0.1 a second; the rest are dropped.
	addrInterval = 10 * time.Second
)

// discoverLoop dials bootnodes and, at a bounded rate, addresses from the
// book, while outbound slots are free.
func (s *Server) discoverLoop() {
	t := s.clock.NewTicker(discoverInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C():
		}
		s.pruneBans()
		for _, addr := range s.dialCandidates() {
			s.spawn(func() {
				defer s.dialDone(addr)
				s.dial(addr, false)
			})
		}
	}
}

// dialCandidates picks this round's dials: bootnodes first, then addresses
// from the book, never two outbound peers (or dials in flight) in one
// network group, unless the address is trusted loopback. Bootnodes are the
// operator's choice and exempt from the group rule.
func (s *Server) dialCandidates() []string {
	skip := map[string]bool{s.Addr(): true}
	groups := make(map[string]bool)
	out := 0
	for _, p := range s.peerList() {
		skip[p.hello.ListenAddr] = true
		skip[p.conn.RemoteAddr().String()] = true
		if !p.inbound && !p.static {
			out++
			groups[p.group] = true
		}
	}
	s.mu.Lock()
	for addr := range s.dialing { // a dial's entry lasts as long as its connection
		if !skip[addr] {
			out++
		}
		skip[addr] = true
		groups[addrman.GroupOf(addr)] = true
	}
	s.mu.Unlock()
	_, outMax := s.slotLimits()
	room := min(outMax-out, dialsPerRound)
	var dials []string
	for _, addr := range s.cfg.Bootnodes {
		if len(dials) < room && !skip[addr] {
			dials = append(dials, addr)
			skip[addr] = true
			groups[addrman.GroupOf(addr)] = true
		}
	}
	if !s.cfg.NoDiscover {
		now := s.clock.Now()
		avoid := func(addr string) bool {
			return skip[addr] || (groups[addrman.GroupOf(addr)] && !s.trusted(hostOfAddr(addr)))
		}
		for len(dials) < room {
			addr, ok := s.book.Select(false, now, avoid)
			if !ok {
				break
			}
			dials = append(dials, addr)
			skip[addr] = true
			groups[addrman.GroupOf(addr)] = true
		}
	}
	s.mu.Lock()
	for _, addr := range dials {
		s.dialing[addr] = true
	}
	s.mu.Unlock()
	return dials
}

// dialDone forgets a dial of dialCandidates once it has ended.
func (s *Server) dialDone(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dialing, addr)
}

// hostOfAddr is the host of a host:port address.
func hostOfAddr(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// feelerLoop makes a feeler connection every feelerInterval (unless
// NoDiscover): it settles the tried-table collisions whose test is done,
// then tests an address a collision would displace or, if none, an address
// of the new table.
func (s *Server) feelerLoop() {
	if s.cfg.NoDiscover {
		return
	}
	t := s.clock.NewTicker(feelerInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C():
		}
		now := s.clock.Now()
		s.book.ResolveCollisions(now)
		addr, ok := s.book.CollisionToTest()
		if !ok {
			connected := map[string]bool{s.Addr(): true}
			for _, p := range s.peerList() {
				connected[p.hello.ListenAddr] = true
				connected[p.conn.RemoteAddr().String()] = true
			}
			addr, ok = s.book.Select(true, now, func(a string) bool { return connected[a] })
		}
		if ok {
			s.spawn(func() { s.feel(addr) })
		}
	}
}

// feel is one feeler connection: dial, handshake, record the address as
// good, and hang up saying why.
func (s *Server) feel(addr string) {
	s.book.Attempt(addr, s.clock.Now())
	conn, err := s.tr.Dial(s.ctx, addr)
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := s.handshake(conn); err != nil {
		s.log.Debug("Feeler failed", "addr", addr, "err", err)
		return
	}
	s.book.Good(addr, s.clock.Now())
	conn.SetWriteDeadline(s.clock.Now().Add(time.Second))
	WriteMsg(conn, &Disconnect{Reason: "feeler connection"})
}

// peerUp records a new peer in the book: an outbound peer we chose is
// good (it moves to tried); an inbound peer's listen address is learnt
// when it is on the IP the peer connects from.
func (s *Server) peerUp(p *Peer) {
	now := s.clock.Now()
	switch {
	case !p.inbound && !p.static:
		s.book.Good(p.conn.RemoteAddr().String(), now)
	case p.inbound && p.hello.ListenAddr != "" && hostOfAddr(p.hello.ListenAddr) == p.ip:
		s.book.Add(p.hello.ListenAddr, p.ip, now, now)
	}
}

// learnAddrs adds addresses p told us, within p's address budget; the
// source is p's IP, whose network group bounds the buckets they reach.
func (s *Server) learnAddrs(p *Peer, addrs []string) {
	now := s.clock.Now()
	for _, a := range addrs {
		if a == s.Addr() {
			continue
		}
		p.mu.Lock()
		ok := p.addrs.take(now, maxAddrs, addrInterval)
		p.mu.Unlock()
		if !ok {
			return
		}
		s.book.Add(a, p.ip, now, now)
	}
}

// loadAnchors reads the anchors of the last run (removing the file) and
// dials them at once. With NoDiscover there are no anchors: only static
// peers and bootnodes are dialled.
func (s *Server) loadAnchors() error {
	if s.cfg.AnchorsFile == "" || s.cfg.NoDiscover {
		return nil
	}
	anchors, err := addrman.LoadAnchors(s.cfg.AnchorsFile)
	if err != nil {
		return err
	}
	for _, addr := range anchors {
		s.log.Info("Dialling anchor", "addr", addr)
		s.mu.Lock()
		s.dialing[addr] = true
		s.mu.Unlock()
		s.spawn(func() {
			defer s.dialDone(addr)
			s.dial(addr, false)
		})
	}
	return nil
}

// saveAnchors writes the outbound peers, longest connected first, for the
// next run.
func (s *Server) saveAnchors() {
	if s.cfg.AnchorsFile == "" || s.cfg.NoDiscover || !s.started {
		return
	}
	var out []*Peer
	for _, p := range s.peerList() {
		if !p.inbound && !p.static {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Peer) int { return a.connectedAt.Compare(b.connectedAt) })
	addrs := make([]string, len(out))
	for i, p := range out {
		addrs[i] = p.conn.RemoteAddr().String()
	}
	if err := addrman.SaveAnchors(s.cfg.AnchorsFile, addrs); err != nil {
		s.log.Warn("Cannot save anchors", "err", err)
	}
}
