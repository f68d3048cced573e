package pos

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// The four ways issue "finality that cannot be broken" broke the gadget,
// each driven through real chains on in-memory LevelDB.

// keyOf is the test key of validator address a.
func keyOf(t *testing.T, a common.Address) *ecdsa.PrivateKey {
	t.Helper()
	for i := 0; i < 16; i++ {
		if addr(i) == a {
			return key(i)
		}
	}
	t.Fatalf("no test key for %s", a.Hex())
	return nil
}

// proposeOn has the proposer that v's head state draws for the current
// slot build a block with txs on v's head; v imports it. It gives v's engine
// that proposer's key, so that one view can build any branch.
// buildSealed builds a block on n's head with proposer p and txs and seals
// it with n's engine.
func buildSealed(t *testing.T, n node, p common.Address, txs []*types.Transaction) *chain.Block {
	t.Helper()
	b, err := n.c.BuildBlock(p, txs)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := n.e.Seal(context.Background(), n.c, b)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// proposeOn has the current slot's proposer build a block on v with items
// (see pool) and imports it.
func proposeOn(t *testing.T, v node, clk *clocks.Sim, items ...any) *chain.Block {
	t.Helper()
	p := v.e.Proposer(HeadState{v.c}, v.e.SlotAt(clk.Now()))
	v.e.AddKey(keyOf(t, p))
	txs := pool(t, v, items)
	b, err := v.c.BuildBlock(p, txs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Txs) != len(txs) {
		t.Fatalf("%d of %d transactions fit in the block", len(b.Txs), len(txs))
	}
	sealed, err := v.e.Seal(context.Background(), v.c, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.c.InsertBlock(sealed); err != nil {
		t.Fatalf("own block refused: %v", err)
	}
	checkDraws(t, v.e, HeadState{v.c}, sealed.Header.Nonce+1)
	return sealed
}

// slotsOn advances the clock slot by slot up to slot last, a block in each.
func slotsOn(t *testing.T, v node, clk *clocks.Sim, last uint64) []*chain.Block {
	t.Helper()
	var out []*chain.Block
	for v.e.SlotAt(clk.Now()) < last {
		clk.Advance(slotMs * time.Millisecond)
		out = append(out, proposeOn(t, v, clk))
	}
	return out
}

func atSlot(clk *clocks.Sim, slot uint64) {
	clk.AdvanceTo(genesisTime.Add(time.Duration(slot) * slotMs * time.Millisecond))
}

func (e *Engine) cp(t *testing.T, st StateReader, epoch uint64) Checkpoint {
	t.Helper()
	h, ok := e.checkpoint(st, epoch)
	if !ok {
		t.Fatalf("no checkpoint for epoch %d", epoch)
	}
	return Checkpoint{Epoch: epoch, Hash: h}
}

// TestVotesWithDifferentSourcesAreNotSummed: 60% of stake votes J->J+2,
// 70% votes J->J+1 (justifying J+1), then 40% votes J+1->J+2. Only links add
// up, so J+2 is not justified and J+1 is not finalized.
func TestVotesWithDifferentSourcesAreNotSummed(t *testing.T) {
	g := testGenesis(40, 30, 20, 10)
	clk := clocks.NewSim(genesisTime)
	v := newNode(t, g, clk, nil)
	slotsOn(t, v, clk, 8) // opens epoch 2
	st := HeadState{v.c}
	j, j1, j2 := v.e.cp(t, st, 0), v.e.cp(t, st, 1), v.e.cp(t, st, 2)
	var txs []any
	for _, i := range []int{1, 2, 3} { // 60%
		txs = append(txs, signedVote(t, g, key(i), Vote{Source: j, Target: j2}))
	}
	for _, i := range []int{0, 1} { // 70%
		txs = append(txs, signedVote(t, g, key(i), Vote{Source: j, Target: j1}))
	}
	txs = append(txs, signedVote(t, g, key(0), Vote{Source: j1, Target: j2})) // 40%
	clk.Advance(slotMs * time.Millisecond)
	proposeOn(t, v, clk, txs...)
	if got := v.e.justified(st); got != j1 {
		t.Fatalf("justified epoch %d, want %d: votes with different sources were summed", got.Epoch, j1.Epoch)
	}
	if got := v.e.finalized(st); got.Epoch != 0 {
		t.Fatalf("epoch %d finalized with 40%% of stake on its link", got.Epoch)
	}
	if voted, total := v.e.Tally(st, 2); voted.Cmp(ether(40)) != 0 || total.Cmp(ether(100)) != 0 {
		t.Fatalf("tally of the link J+1 -> J+2: %v of %v", voted, total)
	}
}

func ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

// openEpoch2 is a chain with validators of the given stakes, a block in
// every slot up to the first of epoch 2, and the checkpoints of epochs 0
// and 2.
func openEpoch2(t *testing.T, stakes ...int64) (*chain.Genesis, node, *clocks.Sim, Checkpoint, Checkpoint) {
	t.Helper()
	g := testGenesis(stakes...)
	clk := clocks.NewSim(genesisTime)
	v := newNode(t, g, clk, nil)
	slotsOn(t, v, clk, 8)
	st := HeadState{v.c}
	return g, v, clk, v.e.cp(t, st, 0), v.e.cp(t, st, 2)
}

// TestRemovedStakeKeepsNoVoteAndDenominatorHolds: stake that leaves during
// an epoch (an exit, a slashing) does not shrink the epoch's snapshot, and a
// slashed validator's vote stops counting.
func TestRemovedStakeKeepsNoVoteAndDenominatorHolds(t *testing.T) {
	t.Run("exit", func(t *testing.T) {
		g, v, clk, src, tgt := openEpoch2(t, 30, 30, 40)
		st := HeadState{v.c}
		unbond, _ := rlp.EncodeToBytes(StakingCall{Unbond: ether(40)})
		clk.Advance(slotMs * time.Millisecond)
		proposeOn(t, v, clk, callTx(t, g, key(2), v.c.Account(addr(2)).Nonce, StakingAddress, nil, unbond),
			signedVote(t, g, key(0), Vote{Source: src, Target: tgt}), signedVote(t, g, key(1), Vote{Source: src, Target: tgt}))
		if got := v.e.justified(st); got.Epoch != 0 {
			t.Fatalf("epoch %d justified by 60 of the 100 staked at its start", got.Epoch)
		}
	})
	t.Run("slashed", func(t *testing.T) {
		g, v, clk, src, tgt := openEpoch2(t, 40, 30, 30)
		st := HeadState{v.c}
		first := signedVote(t, g, key(0), Vote{Source: src, Target: tgt})
		other := signedVote(t, g, key(0), Vote{Source: src, Target: Checkpoint{Epoch: 2, Hash: common.Hash{7}}})
		clk.Advance(slotMs * time.Millisecond)
		proposeOn(t, v, clk, first, Evidence{Kind: DoubleVote, A: first.Encode(), B: other.Encode()},
			signedVote(t, g, key(1), Vote{Source: src, Target: tgt}))
		if !v.e.Slashed(st, addr(0)) {
			t.Fatal("validator 0 not slashed")
		}
		if got := v.e.justified(st); got.Epoch != 0 {
			t.Fatalf("epoch %d justified: the slashed validator's 40 still counted", got.Epoch)
		}
		if voted, total := v.e.Tally(st, 2); voted.Cmp(ether(30)) != 0 || total.Cmp(ether(100)) != 0 {
			t.Fatalf("tally %v of %v, want 30 of 100 ether", voted, total)
		}
	})
}

// copyChain imports src's canonical blocks up to height into dst.
func copyChain(t *testing.T, src *chain.Chain, dst node, height uint64) {
	t.Helper()
	for h := dst.c.Head().Height() + 1; h <= height; h++ {
		b, err := src.BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := dst.c.InsertBlock(b); err != nil {
			t.Fatalf("block %d: %v", h, err)
		}
	}
}

// voteEpochs builds blocks up to slot last on v; in the middle slot of each
// epoch every validator votes from the head's justified checkpoint.
func voteEpochs(t *testing.T, g *chain.Genesis, v node, clk *clocks.Sim, last uint64, voters int) {
	t.Helper()
	for v.e.SlotAt(clk.Now()) < last {
		clk.Advance(slotMs * time.Millisecond)
		slot := v.e.SlotAt(clk.Now())
		var txs []any
		if ep := v.e.Epoch(slot); ep > 0 && slot%Section(g).EpochLength == Section(g).EpochLength/2 {
			st := HeadState{v.c}
			for i := 0; i < voters; i++ {
				txs = append(txs, signedVote(t, g, key(i), Vote{Source: v.e.justified(st), Target: v.e.cp(t, st, ep)}))
			}
		}
		proposeOn(t, v, clk, txs...)
	}
}

// TestFinalizedNeverMovesBack: an observer sees block F finalized, then a
// censoring branch one block longer that contains F but not the votes that
// finalized it, then a longer branch forked below F. The observer keeps F
// (also across a restart) and refuses the branch that reverts it.
func TestFinalizedNeverMovesBack(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime)
	main := newNode(t, g, clk, nil)
	store := chain.OpenMemStore()
	defer store.Close()
	obsEngine, _ := New(g, nil, clk.Now)
	// Under the longest chain the censoring branch wins the head; the
	// node's finality must hold whatever its fork choice (LMD-GHOST from
	// the justified checkpoint would not take that branch).
	if err := obsEngine.SetForkChoice(ForkChoiceLongest); err != nil {
		t.Fatal(err)
	}
	obsChain, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: obsEngine, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	obs := node{obsChain, obsEngine}
	voteEpochs(t, g, main, clk, 17, 4) // votes of epochs 1..3 in slots 2, 6, 10, 14
	beforeVotes := main.c.Head().Height()
	voteEpochs(t, g, main, clk, 18, 4) // slot 18: votes 3 -> 4 finalize epoch 3's checkpoint
	copyChain(t, main.c, obs, main.c.Head().Height())
	st := HeadState{main.c}
	f := main.e.finalized(st)
	if f.Epoch != 3 {
		t.Fatalf("finalized epoch %d, want 3", f.Epoch)
	}
	if got := obs.c.Finalized(); got.Hash != f.Hash {
		t.Fatalf("observer's finalized %x, want %x", got.Hash, f.Hash)
	}
	fHeader := obs.c.GetHeader(f.Hash)

	// The censoring branch: from the block before the votes, slots 19 and 20.
	censor := newNode(t, g, clk, nil)
	copyChain(t, main.c, censor, beforeVotes)
	atSlot(clk, 18)
	for _, b := range slotsOn(t, censor, clk, 20) {
		if err := obs.c.InsertBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	if obs.c.Head().Hash() != censor.c.Head().Hash() {
		t.Fatal("the observer did not take the longer censoring branch")
	}
	if got := obs.e.finalized(HeadState{obs.c}); got.Epoch >= 3 {
		t.Fatalf("the censoring branch's state finalized epoch %d; the scenario needs it to lack the votes", got.Epoch)
	}
	if got := obs.c.Finalized(); got.Hash != f.Hash {
		t.Fatalf("finalized moved back from block %d to %d", fHeader.Height, got.Number)
	}
	finality := obs.e.RPCMethods(obs.c)["chaind_finality"].(func(context.Context) (*finalityJSON, error))
	if view, err := finality(context.Background()); err != nil || view.NodeFinalized.Hash != f.Hash || uint64(view.Finalized.Epoch) >= 3 {
		t.Fatalf("chaind_finality: %+v, %v; want the node's block %x next to the head state's older checkpoint", view, err, f.Hash)
	}

	// The deep branch: forked at F's parent, longer than the censoring one.
	deep := newNode(t, g, clk, nil)
	copyChain(t, main.c, deep, fHeader.Height-1)
	atSlot(clk, 20)
	branch := slotsOn(t, deep, clk, 20+obs.c.Head().Height()-deep.c.Head().Height()+1)
	head := obs.c.Head().Hash()
	for i, b := range branch {
		err := obs.c.InsertBlock(b)
		if i == 0 && !errors.Is(err, chain.ErrRevertsFinalized) {
			t.Fatalf("a block forking below the finalized one: %v, want %v", err, chain.ErrRevertsFinalized)
		}
		if !chain.IsRuleError(err) {
			t.Fatalf("block %d of the deep branch: %v, want a rule error", b.Height(), err)
		}
	}
	if obs.c.Head().Hash() != head {
		t.Fatal("the observer reverted its finalized block")
	}
	// The checkpoint is stored: a restart keeps it.
	again, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: obsEngine, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Finalized(); got.Hash != f.Hash {
		t.Fatalf("after a restart finalized is %x, want %x", got.Hash, f.Hash)
	}
}

// TestCheckpointStart: a fresh node given a trusted checkpoint takes the
// shorter branch that contains it over a longer one that does not, whichever
// arrives first, with the checkpoint by number and hash or by hash alone.
func TestCheckpointStart(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime)
	good := newNode(t, g, clk, nil)
	slotsOn(t, good, clk, 12)
	cpBlock, _ := good.c.BlockByHeight(8)
	bad := newNode(t, g, clk, nil)
	copyChain(t, good.c, bad, 5)
	slotsOn(t, bad, clk, 20) // longer, forked at 5
	for _, tc := range []struct {
		name string
		cp   string
	}{
		{"number and hash", "8:" + cpBlock.Hash().Hex()},
		{"hash", cpBlock.Hash().Hex()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp, err := chain.ParseCheckpoint(tc.cp)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := New(g, nil, clk.Now)
			store := chain.OpenMemStore()
			defer store.Close()
			c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: e, Clock: clk, Checkpoint: cp})
			if err != nil {
				t.Fatal(err)
			}
			for _, src := range []*chain.Chain{bad.c, good.c} {
				for h := uint64(1); h <= src.Head().Height(); h++ {
					b, _ := src.BlockByHeight(h)
					if err := c.InsertBlock(b); err != nil && !errors.Is(err, chain.ErrKnownBlock) && !errors.Is(err, chain.ErrCheckpoint) && !errors.Is(err, chain.ErrInvalidAncestor) {
						t.Fatalf("block %d: %v", h, err)
					}
				}
			}
			if c.Head().Hash() != good.c.Head().Hash() {
				t.Fatalf("head %d is not the branch with the checkpoint (head %d)", c.Head().Height(), good.c.Head().Height())
			}
			if got := c.Finalized(); got.Hash != cpBlock.Hash() {
				t.Fatalf("the trusted checkpoint does not count as finalized: %x", got.Hash)
			}
		})
	}
	if _, err := chain.ParseCheckpoint("x:12"); err == nil {
		t.Fatal("a malformed checkpoint was accepted")
	}
}
