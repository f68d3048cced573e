package pos

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// testKeys are the validators' keys, derived once (deriving is slow).
var testKeys, testAddrs = func() ([]*ecdsa.PrivateKey, []common.Address) {
	var keys []*ecdsa.PrivateKey
	var addrs []common.Address
	for i := 0; i < 16; i++ {
		k, _ := crypto.ToECDSA(common.LeftPadBytes(big.NewInt(int64(7000+i)).Bytes(), 32))
		keys, addrs = append(keys, k), append(addrs, crypto.PubkeyToAddress(k.PublicKey))
	}
	return keys, addrs
}()

func key(i int) *ecdsa.PrivateKey { return testKeys[i] }

func addr(i int) common.Address { return testAddrs[i] }

const slotMs = 1000

var genesisTime = time.UnixMilli(1_700_000_000_000)

// testGenesis has one validator per stake, each with 1 ether to send
// transactions with (votes need none).
func testGenesis(stakes ...int64) *chain.Genesis {
	cfg := &GenesisConfig{SlotTime: chain.Duration(slotMs * time.Millisecond), EpochLength: 4}
	g := &chain.Genesis{ChainID: 99, Consensus: chain.ConsensusPoS, Engine: cfg, Timestamp: uint64(genesisTime.UnixMilli()), Alloc: chain.Alloc{}}
	for i, s := range stakes {
		cfg.Validators = append(cfg.Validators, GenesisValidator{Address: addr(i), Stake: chain.NewBigInt(new(big.Int).Mul(big.NewInt(s), big.NewInt(1e18)))})
		g.Alloc[addr(i)] = chain.GenesisAccount{Balance: chain.NewBigInt(big.NewInt(1e18))}
	}
	g.FillDefaults()
	return g
}

// engines holds an engine without keys per test genesis, for the domain
// votes are signed in.
var engines sync.Map // *chain.Genesis -> *Engine

func engineOf(t *testing.T, g *chain.Genesis) *Engine {
	t.Helper()
	if e, ok := engines.Load(g); ok {
		return e.(*Engine)
	}
	e, err := New(g, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	engines.Store(g, e)
	return e
}

// node is one validator's chain with its own engine and key.
type node struct {
	c *chain.Chain
	e *Engine
}

func newNodes(t *testing.T, g *chain.Genesis, clk *clocks.Sim) []node {
	t.Helper()
	var out []node
	for i := range Section(g).Validators {
		out = append(out, newNode(t, g, clk, key(i)))
	}
	return out
}

// newNode is a chain on an in-memory LevelDB whose engine holds k.
func newNode(t *testing.T, g *chain.Genesis, clk *clocks.Sim, k *ecdsa.PrivateKey) node {
	t.Helper()
	return newNodeWith(t, g, clk, k, "")
}

// newNodeWith is newNode under the fork-choice rule ("" for the default).
func newNodeWith(t *testing.T, g *chain.Genesis, clk *clocks.Sim, k *ecdsa.PrivateKey, rule string) node {
	t.Helper()
	e, err := New(g, k, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetForkChoice(rule); err != nil {
		t.Fatal(err)
	}
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: e, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return node{c, e}
}

// TestProposerSelectionIsFairAndDeterministic: over 10,000 slots the
// proposer counts fit the stake shares (chi-square at a fixed seed), and
// engines built separately compute the same schedule.
func TestProposerSelectionIsFairAndDeterministic(t *testing.T) {
	stakes := []int64{40, 30, 20, 10}
	g := testGenesis(stakes...)
	a, _ := New(g, nil, nil)
	b, _ := New(testGenesis(stakes...), nil, nil)
	_, st := g.Block(a)
	counts := map[common.Address]int{}
	const slots = 10_000
	for s := uint64(1); s <= slots; s++ {
		p := a.Proposer(st, s)
		if q := b.Proposer(st, s); q != p {
			t.Fatalf("slot %d: two engines disagree (%s, %s)", s, p.Hex(), q.Hex())
		}
		counts[p]++
	}
	chi2 := 0.0
	for i, s := range stakes {
		expected := float64(slots) * float64(s) / 100
		d := float64(counts[addr(i)]) - expected
		chi2 += d * d / expected
	}
	// 3 degrees of freedom: P(chi2 > 11.34) = 0.01.
	if chi2 > 11.34 {
		t.Fatalf("proposer counts %v do not fit the stakes %v: chi-square %.2f", counts, stakes, chi2)
	}
	t.Logf("counts %v, chi-square %.2f (3 df, 1%% critical value 11.34)", counts, chi2)
}

// produce has the proposer of the current slot build a block and every node
// import it; it returns the block (nil for an empty slot: proposer offline).
func produce(t *testing.T, nodes []node, clk *clocks.Sim, offline map[int]bool, txs func(i int) []any) *chain.Block {
	t.Helper()
	slot := nodes[0].e.SlotAt(clk.Now())
	for i, n := range nodes {
		if n.e.Proposer(HeadState{n.c}, slot) != n.e.Address() || offline[i] {
			continue
		}
		var pending []*types.Transaction
		if txs != nil {
			pending = pool(t, n, txs(i))
		}
		sealed := buildSealed(t, n, n.e.Address(), pending)
		for j, m := range nodes {
			if err := m.c.InsertBlock(sealed); err != nil {
				t.Fatalf("node %d refused slot %d: %v", j, slot, err)
			}
		}
		return sealed
	}
	return nil
}

// signedVote is v signed with k on g's chain.
func signedVote(t *testing.T, g *chain.Genesis, k *ecdsa.PrivateKey, v Vote) SignedVote {
	t.Helper()
	sv, err := engineOf(t, g).SignVote(k, v)
	if err != nil {
		t.Fatal(err)
	}
	return sv
}

// pool puts what a test has n's next block include into n's pools: votes
// and evidence (without the intake's checks, so that a test can include
// what an honest node would not pool; evidence that proves nothing stays
// out), and returns the transactions among items.
func pool(t *testing.T, n node, items []any) []*types.Transaction {
	t.Helper()
	var txs []*types.Transaction
	for _, it := range items {
		switch x := it.(type) {
		case *types.Transaction:
			txs = append(txs, x)
		case SignedVote:
			n.e.votes.add(x)
		case Evidence:
			if offender, err := n.e.checkEvidence(&x); err == nil {
				n.e.evidence.add(offender, x)
			}
		default:
			t.Fatalf("a block cannot include %T", it)
		}
	}
	return txs
}

// run produces blocks slot by slot for epochs; validators not in silent vote
// once per epoch from its middle slot, as the validator loop does.
func run(t *testing.T, g *chain.Genesis, nodes []node, clk *clocks.Sim, epochs int, offline, silent map[int]bool) {
	t.Helper()
	voted := map[[2]uint64]bool{}
	for s := 0; s < epochs*int(Section(g).EpochLength); s++ {
		clk.Advance(slotMs * time.Millisecond)
		slot := nodes[0].e.SlotAt(clk.Now())
		epoch := nodes[0].e.Epoch(slot)
		produce(t, nodes, clk, offline, func(proposer int) []any {
			if slot%Section(g).EpochLength < Section(g).EpochLength/2 {
				return nil
			}
			var votes []any
			for i, n := range nodes {
				st := HeadState{n.c}
				target, ok := n.e.checkpoint(st, epoch)
				done, _ := getRec(st, keyVoted(epoch, addr(i))) // voted in an earlier run: voting again would be a double vote
				if silent[i] || offline[i] || voted[[2]uint64{uint64(i), epoch}] || done.Nonce != 0 || !ok || epoch == 0 {
					continue
				}
				voted[[2]uint64{uint64(i), epoch}] = true
				votes = append(votes, signedVote(t, g, key(i), Vote{Source: n.e.justified(st), Target: Checkpoint{epoch, target}}))
			}
			return votes
		})
	}
}

// TestFinalityAdvancesAndStopsWithoutTwoThirds: four equal validators on
// simulated time fill every slot without a reorg and finalize; with one
// silent finality continues, with two offline it stops, and it resumes.
func TestFinalityAdvancesAndStopsWithoutTwoThirds(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, g, clk)
	reorgs := 0
	for _, n := range nodes {
		n.c.Subscribe(func(ev chain.HeadEvent) { reorgs += len(ev.Removed) })
	}
	run(t, g, nodes, clk, 6, nil, nil)
	// A healthy network whose messages arrive within the slot: a block in
	// every slot and no reorg anywhere.
	if h, slots := nodes[0].c.Head().Height(), uint64(6*Section(g).EpochLength); h != slots || reorgs != 0 {
		t.Fatalf("healthy network: height %d after %d slots, %d blocks reorganised away", h, slots, reorgs)
	}
	st := HeadState{nodes[0].c}
	fin, just := nodes[0].e.finalized(st), nodes[0].e.justified(st)
	if just.Epoch < 5 || fin.Epoch < 4 {
		t.Fatalf("all voting: justified %d, finalized %d after 6 epochs", just.Epoch, fin.Epoch)
	}
	for _, n := range nodes[1:] {
		if n.e.finalized(HeadState{n.c}) != fin {
			t.Fatal("nodes disagree on the finalized checkpoint")
		}
	}
	if h, _, _ := nodes[0].c.Finality(); h != fin.Hash {
		t.Fatal("chain.Finality does not report the engine's checkpoint")
	}
	// One of four silent (3/4 of stake votes): finality continues.
	run(t, g, nodes, clk, 3, nil, map[int]bool{3: true})
	if f := nodes[0].e.finalized(HeadState{nodes[0].c}); f.Epoch <= fin.Epoch {
		t.Fatalf("finality stopped with 3/4 of stake voting (%d -> %d)", fin.Epoch, f.Epoch)
	}
	fin = nodes[0].e.finalized(HeadState{nodes[0].c})
	// Two of four offline: blocks continue in the others' slots, finality stops.
	height := nodes[0].c.Head().Height()
	run(t, g, nodes, clk, 4, map[int]bool{2: true, 3: true}, nil)
	if nodes[0].c.Head().Height() <= height {
		t.Fatal("no blocks with half the validators offline")
	}
	if f := nodes[0].e.finalized(HeadState{nodes[0].c}); f != fin {
		t.Fatalf("finality advanced with half the stake offline: %d -> %d", fin.Epoch, f.Epoch)
	}
	// Back online: finality resumes.
	run(t, g, nodes, clk, 4, nil, nil)
	if f := nodes[0].e.finalized(HeadState{nodes[0].c}); f.Epoch <= fin.Epoch {
		t.Fatalf("finality did not resume (%d)", f.Epoch)
	}
}

// TestBadBlocksAndVotesRefused: blocks from the wrong proposer, for a slot
// not after the parent's, from the future, or badly signed, and votes from a
// non-validator, are refused and change nothing.
func TestBadBlocksAndVotesRefused(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime.Add(slotMs * time.Millisecond))
	nodes := newNodes(t, g, clk)
	c := nodes[0].c
	slot := nodes[0].e.SlotAt(clk.Now())
	var proposer, other int
	for i, n := range nodes {
		if n.e.Proposer(HeadState{c}, slot) == n.e.Address() {
			proposer = i
		} else {
			other = i
		}
	}
	build := func(i int, edit func(*chain.Header)) *chain.Block {
		n := nodes[i]
		b, err := n.c.BuildBlock(n.e.Address(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(b.Header)
		}
		sealed, _ := n.e.Seal(context.Background(), n.c, b)
		return sealed
	}
	future := clk.Now().Add(5 * slotMs * time.Millisecond)
	tests := []struct {
		name string
		make func() *chain.Block
		want error
	}{
		{"wrong proposer", func() *chain.Block {
			b := build(proposer, nil) // then claimed and signed by another validator
			b.Header.Coinbase = addr(other)
			reveal, _ := sign(nodes[0].e.revealRoot(nodes[0].e.Epoch(slot)), key(other))
			sig, _ := sign(nodes[0].e.BlockSigningRoot(b.Header), key(other))
			b.Header.Seal = append(sig, reveal...)
			return b
		}, ErrWrongProposer},
		{"slot not after parent", func() *chain.Block {
			return build(proposer, func(h *chain.Header) { h.Nonce, h.Time = 0, g.Timestamp })
		}, chain.ErrBadTime}, // a slot's time is fixed, so the time rule catches it first
		{"time not the slot's", func() *chain.Block { return build(proposer, func(h *chain.Header) { h.Time += 7 }) }, ErrBadSlot},
		{"future slot", func() *chain.Block {
			s := nodes[0].e.SlotAt(future)
			return build(proposer, func(h *chain.Header) { h.Nonce, h.Time = s, g.Timestamp+s*slotMs })
		}, chain.ErrFutureBlock},
		{"bad signature", func() *chain.Block {
			b := build(proposer, nil)
			b.Header.Seal[5] ^= 0xff
			return b
		}, ErrBadSeal},
		{"high-s signature", func() *chain.Block {
			b := build(proposer, nil) // the proposer's signature, s flipped: still recovers to it
			copy(b.Header.Seal, flipS(b.Header.Seal[:crypto.SignatureLength]))
			return b
		}, ErrBadSeal},
		{"high-s reveal", func() *chain.Block {
			b := build(proposer, nil)
			copy(b.Header.Seal[crypto.SignatureLength:], flipS(b.Header.Seal[crypto.SignatureLength:]))
			return b
		}, ErrBadSeal},
		{"signed by another validator", func() *chain.Block {
			b := build(proposer, nil)
			sig, _ := sign(nodes[0].e.BlockSigningRoot(b.Header), key(other))
			copy(b.Header.Seal, sig)
			return b
		}, ErrBadSeal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, root := c.Head().Hash(), c.StateRoot()
			if err := c.InsertBlock(tt.make()); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if c.Head().Hash() != head || c.StateRoot() != root {
				t.Fatal("a refused block changed the chain")
			}
		})
	}
	outsider, _ := crypto.GenerateKey()
	body := func(votes ...SignedVote) []byte { return (&Body{Votes: votes}).Encode() }
	outsiderVote := signedVote(t, g, outsider, Vote{Source: Checkpoint{Hash: nodes[0].e.genesisHash}, Target: Checkpoint{Epoch: 1}})
	forged := signedVote(t, g, key(1), Vote{Target: Checkpoint{Epoch: 1}})
	forged.Validator = addr(0)
	_, st := g.Block(nodes[0].e)
	e, h := nodes[0].e, c.Head().Header
	if err := e.ApplyConsensus(c, st, h, body(outsiderVote)); !errors.Is(err, ErrNotValidator) {
		t.Fatalf("vote from a non-validator: %v", err)
	}
	if err := e.ApplyConsensus(c, st, h, body(forged)); !errors.Is(err, ErrBadVote) {
		t.Fatalf("vote signed by another key: %v", err)
	}
	if err := e.ApplyConsensus(c, st, h, body(signedVote(t, g, key(0), Vote{}))); err != nil {
		t.Fatalf("a stale vote must be accepted and ignored: %v", err)
	}
}

func TestFinalityOffFinalizesNothing(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	off := false
	Section(g).Finality = &off
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, g, clk)
	run(t, g, nodes, clk, 6, nil, nil)
	if f, s, ok := nodes[0].c.Finality(); !ok || f != (common.Hash{}) || s != (common.Hash{}) {
		t.Fatalf("finality off, yet finalized %x justified %x", f, s)
	}
	if nodes[0].c.Head().Height() < 20 {
		t.Fatal("blocks stopped")
	}
}
