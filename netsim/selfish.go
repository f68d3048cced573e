package netsim

import (
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/testnet"
	"github.com/ethereum/go-ethereum/common"
)

// selfishMiner is one node that follows Eyal and Sirer's selfish-mining
// strategy ("Majority is not enough", 2014): it keeps the blocks it finds
// private and publishes them only to overtake or tie the honest chain, and
// it relays no one else's blocks.
type selfishMiner struct {
	node    *node
	private []*chain.Block // found and not yet published, oldest first
	public  uint64         // height of the best chain the others have shown
	// race is set while a published selfish block ties an honest one at
	// raceHeight: the honest miners then split between the two branches.
	race       bool
	raceHeight uint64
	raceBlock  common.Hash
	// gammaHits of gammaTrials honest blocks found during a race extended
	// the selfish branch: the measured gamma.
	gammaHits, gammaTrials int
}

// SelfishResult is what the selfish miner achieved.
type SelfishResult struct {
	Share           float64 `json:"share"`            // its share of the hash power
	Gamma           float64 `json:"gamma"`            // measured: honest power that built on its branch in ties
	GammaTrials     int     `json:"gamma_trials"`     // honest blocks found during ties
	RelativeRevenue float64 `json:"relative_revenue"` // its blocks / canonical blocks
	Blocks          int     `json:"blocks"`           // its canonical blocks
	// Theory is Eyal and Sirer's revenue at Share and the measured Gamma.
	Theory float64 `json:"theory"`
}

// SelfishRevenue is Eyal and Sirer's relative revenue of a selfish miner
// with share alpha when a fraction gamma of the honest power mines on its
// branch in a tie (their equation 8).
func SelfishRevenue(alpha, gamma float64) float64 {
	a := alpha
	num := a*(1-a)*(1-a)*(4*a+gamma*(1-2*a)) - a*a*a
	return num / (1 - a*(1+(2-a)*a))
}

// mined handles a block the selfish node found and imported: keep it, or
// win a race by publishing at once.
func (m *selfishMiner) mined(s *sim, b *chain.Block) {
	m.private = append(m.private, b)
	if m.race {
		m.race = false
		m.publish(s, len(m.private))
	}
}

// heard handles an honest block the selfish node imported.
func (m *selfishMiner) heard(s *sim, b *chain.Block) {
	h := b.Height()
	if h <= m.public {
		return
	}
	m.public = h
	if len(m.private) == 0 {
		return
	}
	lead := int64(m.private[len(m.private)-1].Height()) - int64(h)
	switch {
	case lead < 0: // the honest chain is ahead: give up the private branch
		m.private = nil
	case lead == 0: // tie: publish and race
		tip := m.private[len(m.private)-1]
		m.publish(s, len(m.private))
		m.race, m.raceHeight, m.raceBlock = true, h, tip.Hash()
	case lead == 1: // one ahead: publish everything and win
		m.publish(s, len(m.private))
	default: // comfortably ahead: match the honest height
		n := 0
		for n < len(m.private) && m.private[n].Height() <= h {
			n++
		}
		m.publish(s, n)
	}
}

// honestFound notes an honest block found during a race, for gamma.
func (m *selfishMiner) honestFound(b *chain.Block) {
	if !m.race || b.Height() != m.raceHeight+1 {
		return
	}
	m.gammaTrials++
	if b.Header.ParentHash == m.raceBlock {
		m.gammaHits++
	}
	m.race = false
}

// publish sends the n oldest private blocks to the selfish node's peers.
func (m *selfishMiner) publish(s *sim, n int) {
	for _, b := range m.private[:n] {
		s.relay(m.node, &delivery{block: b, from: -1})
	}
	m.private = m.private[n:]
}

func (m *selfishMiner) result(rep *testnet.Report) *SelfishResult {
	r := &SelfishResult{Share: m.node.share, GammaTrials: m.gammaTrials}
	if m.gammaTrials > 0 {
		r.Gamma = float64(m.gammaHits) / float64(m.gammaTrials)
	}
	r.Blocks = rep.Producers[m.node.id]
	if rep.Canonical > 0 {
		r.RelativeRevenue = float64(r.Blocks) / float64(rep.Canonical)
	}
	r.Theory = SelfishRevenue(r.Share, r.Gamma)
	return r
}
