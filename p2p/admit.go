package p2p

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/chaind/chaind/p2p/addrman"
)

// Admission limits, before the handshake.
const (
	// maxHandshakes bounds the inbound handshakes at once, and
	// maxHandshakesPerGroup those from one network group.
	maxHandshakes         = 32
	maxHandshakesPerGroup = 8
	// minHandshakeAge: when every place is taken and no group holds more
	// than its share, the oldest handshake older than this gives its place
	// to a newcomer (an honest handshake takes a round trip or two).
	minHandshakeAge = time.Second
	// attemptBurst connection attempts from one IP are admitted at once,
	// then one per attemptInterval.
	attemptBurst    = 20
	attemptInterval = time.Second
	// A refused connection lingers (refuseEarly) for at most
	// lingerRefused, and at most maxLingering at once.
	lingerRefused = time.Second
	maxLingering  = 64
)

// tokenBucket allows burst events at once and one per interval after.
type tokenBucket struct {
	tokens float64
	at     time.Time
}

// take spends a token if there is one at now.
func (b *tokenBucket) take(now time.Time, burst int, interval time.Duration) bool {
	b.tokens = min(float64(burst), b.tokens+float64(now.Sub(b.at))/float64(interval))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// full reports whether the bucket has refilled, so that forgetting it
// changes nothing.
func (b *tokenBucket) full(now time.Time, burst int, interval time.Duration) bool {
	return b.tokens+float64(now.Sub(b.at))/float64(interval) >= float64(burst)
}

// handshake is an inbound connection that has not completed its handshake.
type handshake struct {
	ip, group string
	start     time.Time
}

// trusted reports whether ip is exempt from the per-IP and per-group
// limits: only loopback, and only when the node is told to trust it.
func (s *Server) trusted(ip string) bool { return s.cfg.TrustLoopback && addrman.IsLoopback(ip) }

// admitInbound is the check before a handshake. An untrusted IP is refused
// while banned, beyond attemptBurst attempts (then one a second), when its
// peers and handshakes fill MaxInboundPerIP, or when its group holds
// maxHandshakesPerGroup handshakes. When all maxHandshakes places are
// taken, the newcomer takes the place of the oldest handshake of the group
// that holds the most, if that group holds at least two more than the
// newcomer's; otherwise of the oldest handshake past minHandshakeAge. So
// half-open connections from a few groups, reopened as fast as they are
// closed, cannot keep a peer from another group out. An admitted
// connection holds its place until handshakeDone.
func (s *Server) admitInbound(conn net.Conn) string {
	ip := hostOf(conn.RemoteAddr())
	group := addrman.GroupOf(ip)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	trusted := s.trusted(ip)
	if !trusted {
		if until, ok := s.bannedIP[ip]; ok && now.Before(until) {
			return "address banned until " + until.Format(time.RFC3339)
		}
		if !s.attemptAllowed(ip, now) {
			return fmt.Sprintf("too many connection attempts from %s", ip)
		}
		fromIP, fromGroup := 0, 0
		for _, h := range s.handshakes {
			if h.ip == ip {
				fromIP++
			}
			if h.group == group {
				fromGroup++
			}
		}
		for _, p := range s.peers {
			if p.inbound && p.ip == ip {
				fromIP++
			}
		}
		if fromIP >= s.cfg.MaxInboundPerIP {
			return fmt.Sprintf("too many peers from %s", ip)
		}
		if fromGroup >= maxHandshakesPerGroup {
			return fmt.Sprintf("too many handshakes from %s", group)
		}
	}
	if len(s.handshakes) >= maxHandshakes && !s.evictHandshake(group, now) {
		return "too many handshakes"
	}
	s.handshakes[conn] = &handshake{ip: ip, group: group, start: now}
	return ""
}

// attemptAllowed spends a connection attempt of ip; s.mu is held. The
// per-IP buckets are bounded: full ones are forgotten first, and when all
// maxIPRecords are in use a newcomer is not rate-limited (the other limits
// still hold).
func (s *Server) attemptAllowed(ip string, now time.Time) bool {
	b := s.attempts[ip]
	if b == nil {
		if len(s.attempts) >= maxIPRecords {
			for k, x := range s.attempts {
				if x.full(now, attemptBurst, attemptInterval) {
					delete(s.attempts, k)
				}
			}
		}
		if len(s.attempts) >= maxIPRecords {
			return true
		}
		b = &tokenBucket{tokens: attemptBurst, at: now}
		s.attempts[ip] = b
	}
	return b.take(now, attemptBurst, attemptInterval)
}

// evictHandshake frees a handshake place for a newcomer from group, as
// admitInbound says; s.mu is held. It reports whether it freed one.
func (s *Server) evictHandshake(group string, now time.Time) bool {
	count := make(map[string]int)
	for _, h := range s.handshakes {
		if !s.trusted(h.ip) {
			count[h.group]++
		}
	}
	biggest := ""
	for g, n := range count {
		if n > count[biggest] || (n == count[biggest] && g < biggest) {
			biggest = g
		}
	}
	var victim net.Conn
	var oldest time.Time
	for c, h := range s.handshakes {
		if s.trusted(h.ip) {
			continue
		}
		if count[biggest] >= count[group]+2 && h.group != biggest {
			continue
		}
		if count[biggest] < count[group]+2 && now.Sub(h.start) < minHandshakeAge {
			continue
		}
		if victim == nil || h.start.Before(oldest) {
			victim, oldest = c, h.start
		}
	}
	if victim == nil {
		return false
	}
	delete(s.handshakes, victim)
	s.log.Debug("Handshake evicted", "addr", victim.RemoteAddr(), "for_group", group)
	victim.Close()
	return true
}

// handshakeDone gives back the place admitInbound took (if it was not
// evicted meanwhile).
func (s *Server) handshakeDone(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.handshakes, conn)
}

// refuseEarly tells a connection refused before its handshake why, and
// closes it. The reason goes out in place of our preamble, as a plaintext
// Disconnect frame (writeEarlyRefusal: no keys are agreed yet), with a
// short write deadline so that a peer that does not read costs nothing;
// the dialler reads it as an *EarlyRefusal. The connection then lingers
// up to lingerRefused, its input read and dropped, before it is closed:
// closing a socket with unread input (the peer's preamble, sent before it
// could know) resets the connection, and the peer may lose the reason. At
// most maxLingering connections linger at once; beyond that they are
// closed at once.
func (s *Server) refuseEarly(conn net.Conn, reason string) {
	s.log.Debug("Refused connection", "addr", conn.RemoteAddr(), "reason", reason)
	conn.SetWriteDeadline(s.clock.Now().Add(time.Second))
	writeEarlyRefusal(conn, reason)
	if s.lingering.Add(1) > maxLingering {
		s.lingering.Add(-1)
		conn.Close()
		return
	}
	s.spawn(func() {
		defer s.lingering.Add(-1)
		defer conn.Close()
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		conn.SetReadDeadline(s.clock.Now().Add(lingerRefused))
		io.Copy(io.Discard, io.LimitReader(conn, MaxFrameSize))
	})
}
