package p2p

import (
	"bytes"
	"encoding/hex"
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
// operator's choice and exempt from the group rule. An address is skipped
// when a peer is connected from or listens on its host:port, or when it
// names the id of a connected peer (or ours).
func (s *Server) dialCandidates() []string {
	_, self := addrKey(s.Addr())
	skip := map[string]bool{self: true} // by addrKey
	ids := map[string]bool{s.NodeID(): true}
	groups := make(map[string]bool)
	out := 0
	for _, p := range s.peerList() {
		_, listen := addrKey(p.hello.ListenAddr)
		_, remote := addrKey(p.conn.RemoteAddr().String())
		skip[listen], skip[remote], ids[p.id] = true, true, true
		if !p.inbound && !p.static {
			out++
			groups[p.group] = true
		}
	}
	delete(skip, "") // a peer that does not listen (or we do not)
	s.mu.Lock()
	for key := range s.dialing { // a dial's entry lasts as long as its connection
		if !skip[key] {
			out++
		}
		skip[key] = true
		groups[addrman.GroupOf(key)] = true
	}
	s.mu.Unlock()
	taken := func(addr string) bool {
		id, key := addrKey(addr)
		return skip[key] || (id != "" && ids[id])
	}
	pick := func(addr string) {
		id, key := addrKey(addr)
		skip[key], ids[id] = true, true
		groups[addrman.GroupOf(key)] = true
	}
	_, outMax := s.slotLimits()
	room := min(outMax-out, dialsPerRound)
	var dials []string
	for _, addr := range s.cfg.Bootnodes {
		if len(dials) < room && !taken(addr) {
			dials = append(dials, addr)
			pick(addr)
		}
	}
	if !s.cfg.NoDiscover {
		now := s.clock.Now()
		avoid := func(addr string) bool {
			return taken(addr) || (groups[addrman.GroupOf(addr)] && !s.trusted(hostOfAddr(addr)))
		}
		for len(dials) < room {
			addr, ok := s.book.Select(false, now, avoid)
			if !ok {
				break
			}
			dials = append(dials, addr)
			pick(addr)
		}
	}
	s.mu.Lock()
	for _, addr := range dials {
		_, key := addrKey(addr)
		s.dialing[key] = true
	}
	s.mu.Unlock()
	return dials
}

// dialDone forgets a dial of dialCandidates once it has ended.
func (s *Server) dialDone(addr string) {
	_, key := addrKey(addr)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dialing, key)
}

// addrKey splits a peer address ([id@]host:port) into the id it names
// (lower-case hex, "" for none) and its key, host:port canonical when the
// host is an IP: the book and the dial bookkeeping key addresses by it, so
// that the id form and the bare form of an address are one.
func addrKey(addr string) (id, key string) {
	id, key = addrman.SplitID(addr)
	if c, err := addrman.Canonical(key); err == nil {
		key = c
	}
	if b, err := hex.DecodeString(id); err == nil {
		id = hex.EncodeToString(b)
	}
	return id, key
}

// hostOfAddr is the host of a [id@]host:port address.
func hostOfAddr(addr string) string {
	_, addr = addrman.SplitID(addr)
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
			_, self := addrKey(s.Addr())
			connected := map[string]bool{self: true, s.NodeID(): true} // by addrKey, and ids
			for _, p := range s.peerList() {
				_, listen := addrKey(p.hello.ListenAddr)
				_, remote := addrKey(p.conn.RemoteAddr().String())
				connected[listen], connected[remote], connected[p.id] = true, true, true
			}
			delete(connected, "") // a peer that does not listen, an address without an id
			addr, ok = s.book.Select(true, now, func(a string) bool {
				id, key := addrKey(a)
				return connected[key] || connected[id]
			})
		}
		if ok {
			s.spawn(func() { s.feel(addr) })
		}
	}
}

// feel is one feeler connection: dial, handshake (to the id the address
// names), record the address as good with the id the handshake proved, and
// hang up saying why.
func (s *Server) feel(addr string) {
	want, hostport, err := ParseAddr(addr)
	if err != nil {
		return
	}
	s.book.Attempt(addr, s.clock.Now())
	raw, err := s.tr.Dial(s.ctx, hostport)
	if err != nil {
		return
	}
	defer raw.Close()
	conn, _, err := s.handshake(raw, false, want)
	if err != nil {
		s.log.Debug("Feeler failed", "addr", addr, "err", err)
		return
	}
	s.book.Good(idAddr(conn.RemoteIDHex(), hostport), s.clock.Now())
	conn.SetWriteDeadline(s.clock.Now().Add(time.Second))
	conn.WriteMsg(&Disconnect{Reason: "feeler connection"})
}

// peerUp records a new peer in the book, with the id it proved: an
// outbound peer we chose is good (it moves to tried); an inbound peer's
// listen address is learnt when it is on the IP the peer connects from.
func (s *Server) peerUp(p *Peer) {
	now := s.clock.Now()
	switch {
	case !p.inbound && !p.static:
		s.book.Good(idAddr(p.id, p.conn.RemoteAddr().String()), now)
	case p.inbound && p.hello.ListenAddr != "" && hostOfAddr(p.hello.ListenAddr) == p.ip:
		s.book.Add(idAddr(p.id, p.hello.ListenAddr), p.ip, now, now)
	}
}

// learnAddrs adds addresses p told us, within p's address budget (which
// every address spends, so that what it costs to check one is bounded
// too): only those that name a node id other than ours, as an address
// without one could not be checked when dialled. The id goes into the book
// with the address. The source is p's IP, whose network group bounds the
// buckets they reach.
func (s *Server) learnAddrs(p *Peer, addrs []string) {
	now := s.clock.Now()
	for _, a := range addrs {
		p.mu.Lock()
		ok := p.addrs.take(now, maxAddrs, addrInterval)
		p.mu.Unlock()
		if !ok {
			return
		}
		id, hostport, err := ParseAddr(a)
		if err != nil || id == nil || bytes.Equal(id, s.nodeID) {
			continue
		}
		s.book.Add(idAddr(hex.EncodeToString(id), hostport), p.ip, now, now)
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
		_, key := addrKey(addr)
		s.mu.Lock()
		s.dialing[key] = true
		s.mu.Unlock()
		s.spawn(func() {
			defer s.dialDone(addr)
			s.dial(addr, false)
		})
	}
	return nil
}

// saveAnchors writes the outbound peers, longest connected first, for the
// next run, each with its id: an anchor is dialled to the key it proved.
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
		addrs[i] = idAddr(p.id, p.conn.RemoteAddr().String())
	}
	if err := addrman.SaveAnchors(s.cfg.AnchorsFile, addrs); err != nil {
		s.log.Warn("Cannot save anchors", "err", err)
	}
}
