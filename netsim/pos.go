package netsim

import (
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/testnet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Proof of stake in the simulation is the real thing: every node that
// serves validator keys (one each by default, see Config.Validators) runs
// pos.Validator's duties for them (propose in their slots, vote half way
// through each epoch, report double proposals and conflicting votes) with
// the real engine, chain and mempool, on the simulated clock. Blocks
// and votes travel the simulated network like everything else; slots start
// at the same simulated instant at every node (perfect clocks).

// ValidatorCount is the number of PoS validators cfg asks for.
func (cfg *Config) ValidatorCount() int {
	if cfg.Validators > 0 {
		return cfg.Validators
	}
	return cfg.Nodes
}

// posGenesis is the PoS part of a simulation's genesis: cfg's validators
// with its stakes (equal by default), each funded for its votes.
func posGenesis(cfg Config, spec *engines.Spec) []*ecdsa.PrivateKey {
	stakes := normalised(cfg.Stakes, cfg.ValidatorCount())
	spec.EpochLength, spec.NoFinality = cfg.EpochLength, cfg.NoFinality
	keys := make([]*ecdsa.PrivateKey, cfg.ValidatorCount())
	for i := range keys {
		keys[i] = validatorKey(i)
		// Stakes in units of 1/1,000,000 of 32,000 ether, so that any
		// distribution of shares keeps six digits.
		stake := new(big.Int).Mul(big.NewInt(int64(stakes[i]*1e6)), engines.Ether(32_000))
		stake.Div(stake, big.NewInt(1e6))
		spec.Validators = append(spec.Validators, engines.Validator{Address: crypto.PubkeyToAddress(keys[i].PublicKey), Stake: stake, Balance: engines.Ether(1_000)})
	}
	return keys
}

// validatorKey is validator i's key, the same in every run.
func validatorKey(i int) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("chaind/netsim validator %d", i))))
	if err != nil {
		panic(err) // a Keccak output is a valid key but with negligible probability
	}
	return k
}

// posNode gives n its PoS engine, holding the keys of the validators n
// serves: keys[j] for every j = n.id mod the number of nodes, and those of
// the node before it if that one is a twin.
func (s *sim) posNode(n *node, keys []*ecdsa.PrivateKey) (*pos.Engine, error) {
	e, err := pos.New(s.genesis, nil, s.clk.Now)
	if err != nil {
		return nil, err
	}
	if err := e.SetForkChoice(s.cfg.ForkChoice); err != nil {
		return nil, err
	}
	n.validators = map[common.Address]bool{}
	for j := n.id; j < len(keys); j += s.cfg.Nodes {
		n.validators[e.AddKey(keys[j])] = true
	}
	// The node after a twin (pos.ByzTwin) runs the twin's keys as well:
	// the same keys on two nodes at once.
	if prev := (n.id + s.cfg.Nodes - 1) % s.cfg.Nodes; prev != n.id && s.cfg.Byzantine[prev]&pos.ByzTwin != 0 {
		for j := prev; j < len(keys); j += s.cfg.Nodes {
			n.validators[e.AddKey(keys[j])] = true
		}
	}
	return e, nil
}

// startValidator attaches the validator of n's keys to n once its chain
// and pool exist.
func (s *sim) startValidator(n *node, e *pos.Engine, b pos.Behaviour) error {
	n.protection = pos.OpenMemProtection()
	v, err := pos.NewValidator(pos.ValidatorConfig{Chain: n.chain, Engine: e, Pool: n.pool, Logger: quiet,
		Clock: s.clk, Byzantine: b, Protection: n.protection, Announce: func(blk *chain.Block) { s.produced(n, blk) },
		Gossip: func(code byte, payload []byte) { s.gossip(n, code, payload) }})
	if err != nil {
		return err
	}
	n.validator = v
	return nil
}

// newPoolFor gives n a mempool that follows its chain.
func newPoolFor(n *node) {
	n.pool = mempool.New(mempool.Config{Chain: n.chain})
	n.chain.Subscribe(n.pool.Reset)
}

// consensusMsg is a PoS consensus message (a vote or evidence) on the
// simulated network, as it travels on its p2p channel.
type consensusMsg struct {
	code    byte
	payload []byte
}

func (m *consensusMsg) hash() common.Hash { return crypto.Keccak256Hash([]byte{m.code}, m.payload) }

// gossip sends a consensus message n's validator made to n's peers.
func (s *sim) gossip(n *node, code byte, payload []byte) {
	m := &consensusMsg{code: code, payload: payload}
	s.sysMsgs[m.hash()] = m
	n.txSeen[m.hash()] = true
	s.relay(n, &delivery{msg: m, from: -1})
}

// arriveMsg is a consensus message reaching n: n checks it as its p2p
// channel's handler would (pos.Messages) and relays it if it was of use.
func (s *sim) arriveMsg(n *node, d *delivery) {
	if !s.firstArrival(n, d.msg.hash()) {
		return
	}
	if n.engine == nil {
		return
	}
	msgs := pos.Messages{Chain: n.chain, Engine: n.engine, Validator: n.validator}
	var relay bool
	switch d.msg.code {
	case pos.VoteCode:
		if sv, err := pos.DecodeSignedVote(d.msg.payload); err == nil {
			relay, _ = msgs.Vote(sv)
		}
	case pos.EvidenceCode:
		if ev, err := pos.DecodeEvidence(d.msg.payload); err == nil {
			relay, _ = msgs.Evidence(ev)
		}
	}
	if relay {
		s.relay(n, d)
	}
}

// scheduleSlot runs every running validator's duties at the start of slot.
func (s *sim) scheduleSlot(slot uint64) {
	at := time.UnixMilli(int64(s.genesis.Timestamp) + int64(slot)*s.cfg.BlockTime.Milliseconds())
	s.clk.AfterFunc(at.Sub(s.clk.Now()), func() {
		if s.stopped {
			return
		}
		for _, n := range s.nodes {
			if n.down || n.validator == nil {
				continue
			}
			before := n.chain.CurrentHeader().Hash()
			n.validator.Duties(slot)
			// A new head of one of n's validators: made in this slot, or an
			// earlier slot's block released now (pos.ByzWithhold,
			// pos.ByzExAnte) that the network has not seen.
			if head := n.chain.Head(); head.Hash() != before && n.validators[head.Header.Coinbase] && (head.Header.Nonce == slot || s.blocks[head.Hash()] == nil) {
				s.produced(n, head)
			}
		}
		s.scheduleAttest(slot)
		s.scheduleSlot(slot + 1)
	})
}

// scheduleAttest runs every running validator's votes of slot at
// pos.AttestTime, a third into the slot.
func (s *sim) scheduleAttest(slot uint64) {
	var e *pos.Engine
	for _, n := range s.nodes {
		if n.engine != nil {
			e = n.engine
		}
	}
	if e == nil {
		return
	}
	s.clk.AfterFunc(pos.AttestTime(e, slot).Sub(s.clk.Now()), func() {
		if s.stopped {
			return
		}
		for _, n := range s.nodes {
			if !n.down && n.validator != nil {
				n.validator.Attest(slot)
			}
		}
	})
}

// produced is a block n's validator made and imported: it is recorded and
// sent to n's peers.
func (s *sim) produced(n *node, b *chain.Block) {
	hash := b.Hash()
	if s.blocks[hash] == nil { // a twin (pos.ByzTwin) can make the very block another node made
		s.blocks[hash] = &blockInfo{block: b, seq: len(s.blocks)}
		s.rec.Blocks[hash] = &testnet.BlockRec{Hash: hash, Parent: b.Header.ParentHash, Height: b.Height(),
			Producer: b.Header.Coinbase, TimeMs: int64(b.Header.Time), SeenMs: map[int]int64{}}
	}
	s.arrive(n, &delivery{block: b, from: -1})
}

// slashed lists (by genesis index) the validators slashed on the highest
// head among the nodes; nil for proof of work.
func (s *sim) slashed() []int {
	if s.posEngine == nil {
		return nil
	}
	return s.slashedAt(s.highest())
}

// slashedOn lists, per node, the validators slashed on its head; nil for
// proof of work.
func (s *sim) slashedOn() [][]int {
	var out [][]int
	for _, n := range s.nodes {
		if s.posEngine == nil {
			return nil
		}
		out = append(out, s.slashedAt(n))
	}
	return out
}

// slashedAt lists (by genesis index) the validators slashed on n's head.
func (s *sim) slashedAt(n *node) []int {
	var out []int
	for i, v := range pos.Section(s.genesis).Validators {
		if s.posEngine.Slashed(pos.HeadState{C: n.chain}, v.Address) {
			out = append(out, i)
		}
	}
	return out
}

// highest is the node with the highest head (the first of them on a tie).
func (s *sim) highest() *node {
	best := s.nodes[0]
	for _, n := range s.nodes[1:] {
		if n.chain.CurrentHeader().Height > best.chain.CurrentHeader().Height {
			best = n
		}
	}
	return best
}

// recordFinality notes when n's finalized checkpoint moves.
func (s *sim) recordFinality(n *node) {
	fin := n.chain.Finalized()
	if fin.Number == 0 || fin.Hash == n.finalized {
		return
	}
	n.finalized = fin.Hash
	s.rec.Finalized[n.id] = append(s.rec.Finalized[n.id], testnet.FinalizedRec{TimeMs: s.clk.Now().UnixMilli(), Hash: fin.Hash, Height: fin.Number})
}
