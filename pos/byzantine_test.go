package pos

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// validatorNet is validators with their own chains and real mempools,
// driven slot by slot on a test clock; blocks, transactions and consensus
// messages reach every other node at the end of the slot in which they
// were made.
type validatorNet struct {
	t      *testing.T
	clk    *clocks.Sim
	nodes  []node
	pools  []*mempool.Pool
	vals   []*Validator
	blocks []*chain.Block
	txs    [][]*types.Transaction     // by origin
	msgs   [][]netMsg                 // consensus messages, by origin
	sent   func(origin int, m netMsg) // optional: shown every consensus message a validator sends
}

// netMsg is a consensus message on its channel.
type netMsg struct {
	code    byte
	payload []byte
}

func newValidatorNet(t *testing.T, g *chain.Genesis, byz map[int]Behaviour) *validatorNet {
	net := &validatorNet{t: t, clk: clocks.NewSim(genesisTime)}
	for i := range Section(g).Validators {
		net.addNode(g, byz[i], key(i))
	}
	return net
}

// addNode adds a node whose validator serves keys, with its own protection
// database in memory.
func (net *validatorNet) addNode(g *chain.Genesis, byz Behaviour, keys ...*ecdsa.PrivateKey) {
	p := OpenMemProtection()
	net.t.Cleanup(func() { p.Close() })
	net.addNodeWith(newNode(net.t, g, net.clk, keys[0]), p, byz, keys...)
}

// addNodeWith adds n (whose engine holds keys[0]) with a validator that
// serves keys and asks p.
func (net *validatorNet) addNodeWith(n node, p *Protection, byz Behaviour, keys ...*ecdsa.PrivateKey) {
	t := net.t
	for _, k := range keys[1:] {
		n.e.AddKey(k)
	}
	pool := mempool.New(mempool.Config{Chain: n.c, CheckCall: func(from common.Address, tx *types.Transaction) error {
		return n.e.CheckSystemTx(HeadState{n.c}, from, tx)
	}})
	n.c.Subscribe(pool.Reset)
	n.c.Subscribe(func(ev chain.HeadEvent) { net.blocks = append(net.blocks, ev.Added...) })
	origin := len(net.nodes)
	v, err := NewValidator(ValidatorConfig{Chain: n.c, Engine: n.e, Pool: pool, Byzantine: byz, Protection: p,
		Announce: func(b *chain.Block) { net.blocks = append(net.blocks, b) },
		Gossip: func(code byte, payload []byte) {
			if net.sent != nil {
				net.sent(origin, netMsg{code, payload})
			}
			net.msgs[origin] = append(net.msgs[origin], netMsg{code, payload})
		}})
	if err != nil {
		t.Fatal(err)
	}
	net.txs, net.msgs = append(net.txs, nil), append(net.msgs, nil)
	pool.SubscribeNewTxs(func(txs []*types.Transaction) { net.txs[origin] = append(net.txs[origin], txs...) })
	net.nodes, net.pools, net.vals = append(net.nodes, n), append(net.pools, pool), append(net.vals, v)
}

// run plays slots slots.
func (net *validatorNet) run(slots int) {
	for s := 0; s < slots; s++ {
		net.clk.Advance(slotMs * time.Millisecond)
		slot := net.nodes[0].e.SlotAt(net.clk.Now())
		for _, v := range net.vals {
			v.Duties(slot)
			net.gossip()
		}
		for _, v := range net.vals {
			v.Attest(slot)
			net.gossip()
		}
	}
}

// gossip delivers every pending block, transaction and consensus message
// to every node.
func (net *validatorNet) gossip() {
	for len(net.blocks) > 0 || net.pending() {
		blocks := net.blocks
		net.blocks = nil
		for _, b := range blocks {
			for i, n := range net.nodes {
				net.vals[i].ObserveHeader(b.Header) // as node shows its validator every block it receives
				net.vals[i].ObserveBlock(b)
				err := n.c.InsertBlock(b)
				if err != nil && !errors.Is(err, chain.ErrKnownBlock) && !chain.IsRuleError(err) {
					net.t.Fatalf("node %d: block %d: %v", i, b.Height(), err)
				}
			}
		}
		for origin, txs := range net.txs {
			net.txs[origin] = nil
			for i, p := range net.pools {
				if i != origin {
					for _, tx := range txs {
						_ = p.Add(tx) // known, or stale on this node's head: as in gossip
					}
				}
			}
		}
		for origin, msgs := range net.msgs {
			net.msgs[origin] = nil
			for i, n := range net.nodes {
				if i != origin {
					for _, m := range msgs {
						net.deliver(Messages{Chain: n.c, Engine: n.e, Validator: net.vals[i]}, m)
					}
				}
			}
		}
	}
}

// deliver hands m to a node's consensus-message handler, as its channel
// would.
func (net *validatorNet) deliver(msgs Messages, m netMsg) {
	var err error
	switch m.code {
	case VoteCode:
		var sv SignedVote
		if sv, err = DecodeSignedVote(m.payload); err == nil {
			_, err = msgs.Vote(sv)
		}
	case EvidenceCode:
		var ev Evidence
		if ev, err = DecodeEvidence(m.payload); err == nil {
			_, err = msgs.Evidence(ev)
		}
	}
	if err != nil {
		net.t.Fatalf("a validator's message refused: %v", err)
	}
}

func (net *validatorNet) pending() bool {
	for i := range net.txs {
		if len(net.txs[i]) > 0 || len(net.msgs[i]) > 0 {
			return true
		}
	}
	return false
}

// TestByzantineValidatorsAreSlashed: stakes 10,30,30,30 with validator 0
// misbehaving in each way: the honest validators detect every slashable act
// and slash it on every node; finality keeps advancing and the nodes agree
// on it.
func TestByzantineValidatorsAreSlashed(t *testing.T) {
	for _, tc := range []struct {
		b         Behaviour
		slashable bool
	}{
		{ByzEquivocate, true}, {ByzDoubleVote, true}, {ByzSurroundVote, true}, {ByzCensor, false}, {ByzWithhold, false},
		{ByzEquivocate | ByzCensor, true},
	} {
		t.Run(tc.b.String(), func(t *testing.T) {
			g := testGenesis(10, 30, 30, 30)
			net := newValidatorNet(t, g, map[int]Behaviour{0: tc.b})
			net.run(10 * int(Section(g).EpochLength))
			var fin chain.Checkpoint
			for i, n := range net.nodes {
				st := HeadState{n.c}
				if got := n.e.Slashed(st, addr(0)); got != tc.slashable {
					t.Fatalf("node %d: validator 0 slashed %v, want %v", i, got, tc.slashable)
				}
				for h := 1; h < 4; h++ {
					if n.e.Slashed(st, addr(h)) {
						t.Fatalf("node %d: honest validator %d slashed", i, h)
					}
				}
				f := n.c.Finalized()
				if f.Number == 0 {
					t.Fatalf("node %d finalized nothing", i)
				}
				if i > 0 && f != fin {
					if b, err := n.c.BlockByHeight(min(f.Number, fin.Number)); err != nil || (f.Number > fin.Number && b.Hash() != fin.Hash) {
						t.Fatalf("node %d finalized %d (%x), node 0 %d (%x): not on one chain", i, f.Number, f.Hash, fin.Number, fin.Hash)
					}
				}
				fin = f
			}
		})
	}
}

// TestValidatorLoopOnSimulatedClock: a validator holding all the stake,
// started for real on a simulated clock, proposes in every slot, votes
// into its own pool and finalizes; the test moves time slot by slot once
// the loop waits on the clock.
func TestValidatorLoopOnSimulatedClock(t *testing.T) {
	g := testGenesis(32)
	sim := clocks.NewSim(genesisTime)
	e, err := New(g, key(0), sim.Now)
	if err != nil {
		t.Fatal(err)
	}
	store := chain.OpenMemStore()
	defer store.Close()
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: e, Clock: sim, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	pool := mempool.New(mempool.Config{Chain: c})
	c.Subscribe(pool.Reset)
	prot, err := OpenProtection(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer prot.Close()
	v, err := NewValidator(ValidatorConfig{Chain: c, Engine: e, Pool: pool, Clock: sim, Logger: slog.New(slog.DiscardHandler), Protection: prot})
	if err != nil {
		t.Fatal(err)
	}
	v.Start()
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const slots = 6 * 4
	for s := 0; s < slots; s++ {
		if err := sim.BlockUntil(ctx, 1); err != nil {
			t.Fatalf("slot %d: the loop never waited on the clock: %v", s, err)
		}
		sim.Advance(slotMs * time.Millisecond)
	}
	if err := sim.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if h := c.Head().Height(); h != slots {
		t.Fatalf("height %d after %d slots", h, slots)
	}
	if f := c.Finalized(); f.Number == 0 {
		t.Fatal("a validator with all the stake finalized nothing")
	}
}

// TestTwinValidatorIsSlashed: validator 0's key runs on a second node too
// (ByzTwin, an operator's failover mistake), each copy with its own
// protection database. Both act in the key's slots before hearing each
// other, and a user's transfers reach the twin first, so the two copies
// sign different blocks for one slot: the honest nodes report it and the
// key is slashed everywhere; no honest validator is, and finality goes on.
func TestTwinValidatorIsSlashed(t *testing.T) {
	g := testGenesis(10, 30, 30, 30)
	user := key(9)
	g.Alloc[addr(9)] = chain.GenesisAccount{Balance: chain.NewBigInt(big.NewInt(1e18))}
	net := newValidatorNet(t, g, map[int]Behaviour{0: ByzTwin})
	net.addNode(g, ByzTwin, key(0))
	twin := len(net.nodes) - 1
	for s := 0; s < 10*int(Section(g).EpochLength); s++ {
		net.clk.Advance(slotMs * time.Millisecond)
		slot := net.nodes[0].e.SlotAt(net.clk.Now())
		tx := callTx(t, g, user, net.pools[twin].PendingNonce(addr(9)), common.Address{0x55}, big.NewInt(1), nil)
		if err := net.pools[twin].Add(tx); err != nil {
			t.Fatal(err)
		}
		for _, v := range net.vals { // at once: no copy hears the other first
			v.Duties(slot)
		}
		for _, v := range net.vals {
			v.Attest(slot)
		}
		net.gossip()
	}
	for i, n := range net.nodes[:twin] {
		st := HeadState{n.c}
		if !n.e.Slashed(st, addr(0)) {
			t.Fatalf("node %d: the twinned key was not slashed", i)
		}
		for h := 1; h < 4; h++ {
			if n.e.Slashed(st, addr(h)) {
				t.Fatalf("node %d: honest validator %d slashed", i, h)
			}
		}
		if n.c.Finalized().Number == 0 {
			t.Fatalf("node %d finalized nothing", i)
		}
	}
}

// TestConductWrapsTheHonestOne: no behaviour is the protocol itself, and
// each behaviour changes only its own decision (withholding's longer hold
// wins over ex-ante's).
func TestConductWrapsTheHonestOne(t *testing.T) {
	if c := Behaviour(0).conduct(); c != (honest{}) {
		t.Fatalf("no behaviour: %#v, want honest", c)
	}
	for _, tc := range []struct {
		b       Behaviour
		hold    uint64
		censors bool
	}{
		{ByzEquivocate, 0, false}, {ByzDoubleVote | ByzSurroundVote, 0, false}, {ByzCensor, 0, true},
		{ByzExAnte, 1, false}, {ByzWithhold, withholdSlots, false}, {ByzWithhold | ByzExAnte | ByzCensor, withholdSlots, true},
		{ByzTwin, 0, false},
	} {
		c := tc.b.conduct()
		if c.holdSlots() != tc.hold || c.censors() != tc.censors {
			t.Errorf("%s: holds %d slots and censors %v, want %d and %v", tc.b, c.holdSlots(), c.censors(), tc.hold, tc.censors)
		}
	}
}
