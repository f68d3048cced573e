package p2p

import (
	"cmp"
	"slices"
	"time"
)

// evictionCandidate picks the inbound peer to drop when a new one arrives
// and every inbound slot is taken, as Bitcoin Core's
// AttemptToEvictConnection (net.cpp) does: from the inbound peers (not
// static, not trusted), it protects in turn the few with the highest keyed
// hash of their network group (which an attacker cannot predict), the
// lowest ping, the latest new block, the latest new transaction, and then
// half of the rest by longest uptime; of those left, it evicts the youngest
// of the network group that has the most. An attacker with many ids in a
// few groups thus evicts itself, and one in many groups cannot take the
// slot of a peer that serves us. It returns nil when every peer is
// protected. s.mu is held.
func (s *Server) evictionCandidate(now time.Time) *Peer {
	var cands []*Peer
	for _, p := range s.peers {
		if p.inbound && !p.static && !s.trusted(p.ip) && p.ctx.Err() == nil {
			cands = append(cands, p)
		}
	}
	inMax, _ := s.slotLimits()
	protect := max(1, inMax/8) // Bitcoin protects 4, 8, 4, 4 of 125 slots
	// protectBy removes the n best peers by less (a sort order, best
	// first); keep reports whether a peer has the quality at all.
	protectBy := func(n int, keep func(*Peer) bool, less func(a, b *Peer) int) {
		slices.SortStableFunc(cands, less)
		for i := 0; i < len(cands) && n > 0; {
			if keep(cands[i]) {
				cands = slices.Delete(cands, i, i+1)
				n--
				continue
			}
			i++
		}
	}
	always := func(*Peer) bool { return true }
	key := func(p *Peer) uint64 { return s.evictKey.Hash(p.group) }
	// Sort by id first, so that ties break the same way on every run.
	slices.SortFunc(cands, func(a, b *Peer) int { return cmp.Compare(a.id, b.id) })
	protectBy(protect, always, func(a, b *Peer) int { return cmp.Compare(key(b), key(a)) })
	protectBy(protect, func(p *Peer) bool { return p.latency.Load() > 0 }, func(a, b *Peer) int {
		return cmp.Compare(a.latency.Load(), b.latency.Load())
	})
	protectBy(protect, func(p *Peer) bool { return p.lastBlock.Load() > 0 }, func(a, b *Peer) int {
		return cmp.Compare(b.lastBlock.Load(), a.lastBlock.Load())
	})
	protectBy(protect, func(p *Peer) bool { return p.lastTx.Load() > 0 }, func(a, b *Peer) int {
		return cmp.Compare(b.lastTx.Load(), a.lastTx.Load())
	})
	protectBy(len(cands)/2, always, func(a, b *Peer) int { return cmp.Compare(a.connectedAt.UnixNano(), b.connectedAt.UnixNano()) })
	if len(cands) == 0 {
		return nil
	}
	// The group with the most peers; on a tie, the one whose youngest peer
	// is youngest.
	count := make(map[string]int)
	youngest := make(map[string]*Peer)
	for _, p := range cands {
		count[p.group]++
		if y := youngest[p.group]; y == nil || p.connectedAt.After(y.connectedAt) {
			youngest[p.group] = p
		}
	}
	var victim *Peer
	for g, y := range youngest {
		if victim == nil || count[g] > count[victim.group] ||
			(count[g] == count[victim.group] && y.connectedAt.After(victim.connectedAt)) ||
			(count[g] == count[victim.group] && y.connectedAt.Equal(victim.connectedAt) && g < victim.group) {
			victim = y
		}
	}
	return victim
}
