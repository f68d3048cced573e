package p2p

import (
	"fmt"
	"time"
)

// Scores: a peer's offences add up by its authenticated id; at scoreBan it
// is banned for BanDuration. scoreDrop also disconnects it, so a peer that
// sends invalid data twice is banned.
const (
	scoreBan  = 100
	scoreDrop = 50
	// scoreUnserved is the cost of announcing a block and not serving it.
	scoreUnserved = 20
)

// Identity and slot limits.
const (
	// idsPerIP bounds the distinct node ids accepted from one IP within
	// idWindow, so that fresh keys do not escape bans.
	idsPerIP = 16
	idWindow = time.Hour
	// bannedIDsPerIP is how many banned ids get their IP banned too.
	bannedIDsPerIP = 3
	// maxIPRecords bounds the per-IP bookkeeping.
	maxIPRecords = 4096
)

// ipRecord is what we remember of one remote IP.
type ipRecord struct {
	ids       map[string]time.Time // node ids seen, and when last
	bannedIDs int
}

// slotLimits splits MaxPeers: a third (at least one) for our outbound dials,
// the rest for inbound peers. Static peers take no slot.
func (s *Server) slotLimits() (inbound, outbound int) {
	outbound = max(1, s.cfg.MaxPeers/3)
	return max(1, s.cfg.MaxPeers-outbound), outbound
}

// register admits an authenticated peer, or says why not.
func (s *Server) register(p *Peer) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if until, ok := s.bannedID[p.id]; ok && now.Before(until) {
		return "banned until " + until.Format(time.RFC3339)
	}
	if until, ok := s.bannedIP[p.ip]; ok && now.Before(until) {
		return "address banned until " + until.Format(time.RFC3339)
	}
	if _, dup := s.peers[p.id]; dup {
		return "already connected"
	}
	var victim *Peer // an inbound peer to evict for p
	if !p.static {
		inMax, outMax := s.slotLimits()
		in, out, fromIP := 0, 0, 0
		for _, q := range s.peers {
			switch {
			case q.static:
			case q.inbound:
				in++
				if q.ip == p.ip {
					fromIP++
				}
			default:
				out++
			}
		}
		switch {
		case p.inbound && fromIP >= s.cfg.MaxInboundPerIP && !s.trusted(p.ip):
			return fmt.Sprintf("too many peers from %s", p.ip)
		case p.inbound && in >= inMax:
			if victim = s.evictionCandidate(now); victim == nil {
				return "too many peers"
			}
		case !p.inbound && out >= outMax:
			return "too many peers"
		}
	}
	if !s.trusted(p.ip) {
		if reason := s.noteID(p.ip, p.id, now); reason != "" {
			return reason
		}
	}
	if victim != nil {
		delete(s.peers, victim.id)
		victim.close("evicted to make room for another inbound peer")
		s.log.Info("Inbound peer evicted", "id", short(victim.id), "addr", victim.conn.RemoteAddr(), "for", short(p.id))
	}
	s.peers[p.id] = p
	return ""
}

// noteID records that id connected from ip; s.mu is held.
func (s *Server) noteID(ip, id string, now time.Time) string {
	rec := s.ips[ip]
	if rec == nil {
		if len(s.ips) >= maxIPRecords {
			s.pruneIPs(now)
		}
		if len(s.ips) >= maxIPRecords {
			return "too many addresses"
		}
		rec = &ipRecord{ids: make(map[string]time.Time)}
		s.ips[ip] = rec
	}
	for k, seen := range rec.ids {
		if now.Sub(seen) > idWindow {
			delete(rec.ids, k)
		}
	}
	if _, known := rec.ids[id]; !known && len(rec.ids) >= idsPerIP {
		return fmt.Sprintf("too many node ids from %s", ip)
	}
	rec.ids[id] = now
	return ""
}

// pruneIPs forgets IPs with no recent id and no ban; s.mu is held.
func (s *Server) pruneIPs(now time.Time) {
	for ip, rec := range s.ips {
		recent := false
		for _, seen := range rec.ids {
			recent = recent || now.Sub(seen) <= idWindow
		}
		if !recent && rec.bannedIDs == 0 {
			delete(s.ips, ip)
		}
	}
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
func (s *Server) misbehaved(p *Peer, reason string) { s.penalise(p, scoreDrop, reason) }

// penalise adds points to p's score; at scoreDrop or more it is
// disconnected, and once its score reaches scoreBan its id is banned (and its
// IP, when bannedIDsPerIP ids from it were). Only the peer's faults are
// penalised, never our own failures.
// A connection is cut at most once: what follows from the cut (a failed
// write, a pending request) is not a further offence.
func (s *Server) penalise(p *Peer, points int, reason string) {
	if p.ctx.Err() != nil || (points >= scoreDrop && !p.dropped.CompareAndSwap(false, true)) {
		return
	}
	s.mu.Lock()
	now := s.clock.Now()
	s.score[p.id] += points
	banned := s.score[p.id] >= scoreBan
	if banned {
		delete(s.score, p.id)
		s.bannedID[p.id] = now.Add(s.cfg.BanDuration)
		if rec := s.ips[p.ip]; rec != nil {
			rec.bannedIDs++
			if rec.bannedIDs >= bannedIDsPerIP {
				s.bannedIP[p.ip] = now.Add(s.cfg.BanDuration)
			}
		}
	}
	s.mu.Unlock()
	s.log.Warn("Peer misbehaved", "id", short(p.id), "addr", p.conn.RemoteAddr(), "reason", reason, "points", points, "banned", banned)
	if banned || points >= scoreDrop {
		p.close("misbehaviour: " + reason)
	}
}
