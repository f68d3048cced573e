package netsim

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// Relay is how a node passes a new block or transaction on to its peers.
type Relay int

const (
	// RelayPush sends the whole message to every peer at once, as chaind
	// pushes a new block.
	RelayPush Relay = iota
	// RelayAnnounce sends the hash first; a peer that lacks the message
	// asks the first peer that announced it, and only then does the message
	// cross the link: one more round trip per hop, as Bitcoin's inv and
	// getdata and SimBlock's relay cost.
	RelayAnnounce
)

// ParseRelay reads a --relay value: push or announce.
func ParseRelay(s string) (Relay, error) {
	switch s {
	case "push":
		return RelayPush, nil
	case "announce":
		return RelayAnnounce, nil
	}
	return 0, fmt.Errorf("relay %q: want push or announce", s)
}

func (r Relay) String() string {
	if r == RelayAnnounce {
		return "announce"
	}
	return "push"
}

// relay passes d to every peer of n but the one it came from.
func (s *sim) relay(n *node, d *delivery) {
	for _, p := range n.peers {
		if p == d.from {
			continue
		}
		if s.cfg.Relay == RelayAnnounce {
			s.announce(n, s.nodes[p], d)
		} else {
			s.send(n, s.nodes[p], d)
		}
	}
}

// announce tells peer that n has d. An announcement and a request are a few
// dozen bytes: they cost the link's latency and no bandwidth.
func (s *sim) announce(n, peer *node, d *delivery) {
	if !s.linked(n, peer) {
		return
	}
	s.clk.AfterFunc(s.cfg.Network.Latency(n.id, peer.id, s.rng), func() { s.announced(peer, n, d) })
}

// announced is n hearing that peer has d: n asks for it unless it has it or
// has already asked someone; then it keeps peer as the next one to ask
// should that request fail.
func (s *sim) announced(n, peer *node, d *delivery) {
	if !s.linked(peer, n) {
		return
	}
	hash := d.hash()
	if n.seen[hash] || n.txSeen[hash] {
		return
	}
	if waiting, asked := n.requested[hash]; asked {
		n.requested[hash] = append(waiting, peer.id)
		return
	}
	n.requested[hash] = nil
	s.request(n, peer, d)
}

// request asks peer for d; peer answers by sending it.
func (s *sim) request(n, peer *node, d *delivery) {
	if !s.linked(n, peer) {
		s.requestFailed(n, d.hash())
		return
	}
	s.clk.AfterFunc(s.cfg.Network.Latency(n.id, peer.id, s.rng), func() {
		if !s.linked(n, peer) {
			s.requestFailed(n, d.hash())
			return
		}
		s.send(peer, n, d)
	})
}

// requestFailed is a request of n for hash, or its answer, lost to a cut
// link: n asks the next peer that announced it, if any. (A real node would
// notice only after a timeout; the simulation lets it notice at once.)
func (s *sim) requestFailed(n *node, hash common.Hash) {
	waiting, asked := n.requested[hash]
	if !asked {
		return
	}
	for len(waiting) > 0 {
		p := s.nodes[waiting[0]]
		waiting = waiting[1:]
		if s.linked(n, p) {
			n.requested[hash] = waiting
			s.request(n, p, s.message(hash))
			return
		}
	}
	delete(n.requested, hash)
}

// received ends any request of n for hash.
func (s *sim) received(n *node, hash common.Hash) { delete(n.requested, hash) }

// message is the block, transaction or consensus message with this hash.
func (s *sim) message(hash common.Hash) *delivery {
	if bi := s.blocks[hash]; bi != nil {
		return &delivery{block: bi.block}
	}
	if ti := s.txs[hash]; ti != nil {
		return &delivery{tx: ti.tx}
	}
	return &delivery{msg: s.sysMsgs[hash]}
}
