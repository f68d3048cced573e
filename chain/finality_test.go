package chain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
)

// reporter is the trivial engine with a finalized block set by the test.
type reporter struct {
	ct.Engine
	fin common.Hash
}

func (r *reporter) Finalized(*chain.Header, *chain.State) common.Hash { return r.fin }
func (r *reporter) Safe(*chain.Header, *chain.State) common.Hash      { return common.Hash{} }

// reporterChain is a chain on an in-memory store whose engine is a reporter.
func reporterChain(t *testing.T) (*chain.Genesis, *clock.Sim, *reporter, *chain.Store, *chain.Chain) {
	t.Helper()
	g := ct.Genesis(1)
	clock := ct.NewClock(ct.GenesisTime)
	eng := &reporter{}
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: eng, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return g, clock, eng, store, c
}

// TestFinalizedCheckpointOnlyMovesForward: the chain's finalized block
// follows the engine's report up, never down (when a head's state reports
// an older one), is stored, and no block forking below it is accepted.
func TestFinalizedCheckpointOnlyMovesForward(t *testing.T) {
	g, clock, eng, store, c := reporterChain(t)
	side := ct.NewChain(t, g, clock) // builds the competing branch
	var main []*chain.Block
	for i := 0; i < 5; i++ {
		b := ct.Mine(t, c, clock, common.Address{1}, nil, nil)
		main = append(main, b)
		if i < 2 {
			if err := side.InsertBlock(b); err != nil {
				t.Fatal(err)
			}
		}
		if i == 2 {
			eng.fin = main[2].Hash() // reported from block 4's head on
		}
	}
	if got := c.Finalized(); got.Number != 3 || got.Hash != main[2].Hash() {
		t.Fatalf("finalized %d (%x), want block 3", got.Number, got.Hash)
	}
	eng.fin = main[0].Hash() // a head whose state knows less
	ct.Mine(t, c, clock, common.Address{1}, nil, nil)
	if got := c.Finalized(); got.Number != 3 {
		t.Fatalf("finalized moved back to %d", got.Number)
	}
	var branch []*chain.Block
	for i := 0; i < 6; i++ { // forks at 2, longer than the main chain
		branch = append(branch, ct.Mine(t, side, clock, common.Address{2}, nil, nil))
	}
	head := c.Head().Hash()
	if err := c.InsertBlock(branch[0]); !errors.Is(err, chain.ErrRevertsFinalized) || !chain.IsRuleError(err) {
		t.Fatalf("a block forking below the finalized one: %v", err)
	}
	for _, b := range branch[1:] {
		if err := c.InsertBlock(b); !errors.Is(err, chain.ErrInvalidAncestor) {
			t.Fatalf("its descendant: %v", err)
		}
	}
	if c.Head().Hash() != head {
		t.Fatal("the head left the finalized block")
	}
	again, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: eng, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Finalized(); got.Hash != main[2].Hash() {
		t.Fatalf("after reopening, finalized %d", got.Number)
	}
}

func TestParseCheckpoint(t *testing.T) {
	h := "0xabcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	for _, tc := range []struct {
		in     string
		number uint64
		ok     bool
	}{
		{h, 0, true}, {"12:" + h, 12, true}, {h[2:], 0, true},
		{"0:" + h, 0, false}, {"x:" + h, 0, false}, {"12:0x1234", 0, false}, {"", 0, false},
	} {
		cp, err := chain.ParseCheckpoint(tc.in)
		if (err == nil) != tc.ok {
			t.Fatalf("%q: error %v, want ok %v", tc.in, err, tc.ok)
		}
		if err == nil && (cp.Number != tc.number || cp.Hash != common.HexToHash(h)) {
			t.Fatalf("%q: got %d:%x", tc.in, cp.Number, cp.Hash)
		}
	}
}

// TestStoredSideBranchCannotGrowPastFinality: a side branch stored while
// its fork was above finality cannot grow once the finalized block moves
// past the fork, however far above the finalized height its new block is;
// a branch that forks above the finalized block still can.
func TestStoredSideBranchCannotGrowPastFinality(t *testing.T) {
	g, clock, eng, _, c := reporterChain(t)
	low, high := ct.NewChain(t, g, clock), ct.NewChain(t, g, clock) // fork at 2 and at 4
	var main []*chain.Block
	for i := 0; i < 6; i++ {
		b := ct.Mine(t, c, clock, common.Address{1}, nil, nil)
		main = append(main, b)
		for _, side := range []*chain.Chain{low, high} {
			if b.Height() <= 2 || (side == high && b.Height() <= 4) {
				if err := side.InsertBlock(b); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	lowBranch := []*chain.Block{ct.Mine(t, low, clock, common.Address{2}, nil, nil), ct.Mine(t, low, clock, common.Address{2}, nil, nil)}
	highBranch := []*chain.Block{ct.Mine(t, high, clock, common.Address{3}, nil, nil)}
	for _, b := range append(append([]*chain.Block(nil), lowBranch...), highBranch...) {
		if err := c.InsertBlock(b); err != nil {
			t.Fatalf("side block %d before finality: %v", b.Height(), err)
		}
	}
	eng.fin = main[2].Hash()
	ct.Mine(t, c, clock, common.Address{1}, nil, nil)
	if got := c.Finalized(); got.Number != 3 {
		t.Fatalf("finalized %d, want 3", got.Number)
	}
	grow := ct.Mine(t, low, clock, common.Address{2}, nil, nil) // height 5, on a branch whose block 3 is not the finalized one
	if err := c.InsertBlock(grow); !errors.Is(err, chain.ErrRevertsFinalized) {
		t.Fatalf("block %d on a branch forked below finality: %v", grow.Height(), err)
	}
	ok := ct.Mine(t, high, clock, common.Address{3}, nil, nil) // height 6, forked at 4
	if err := c.InsertBlock(ok); err != nil {
		t.Fatalf("block %d on a branch forked above finality: %v", ok.Height(), err)
	}
}

// TestCheckpointNotBypassedBelowIt: a node given a trusted checkpoint
// NUMBER:HASH first receives a shorter branch that forks below the
// checkpoint and whose engine state finalizes one of its blocks. The node
// may follow that branch while it has nothing better, but takes no finality
// from it, and moves to the checkpoint's chain when that arrives; the
// checkpoint is then its finalized block and the other branch cannot come
// back.
func TestCheckpointNotBypassedBelowIt(t *testing.T) {
	g := ct.Genesis(1)
	clock := ct.NewClock(ct.GenesisTime)
	good, bad := ct.NewChain(t, g, clock), ct.NewChain(t, g, clock)
	var main []*chain.Block
	for i := 0; i < 6; i++ {
		b := ct.Mine(t, good, clock, common.Address{1}, nil, nil)
		main = append(main, b)
		if i < 2 {
			if err := bad.InsertBlock(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	var branch []*chain.Block // heights 3 and 4: shorter than the checkpoint's height 5
	for i := 0; i < 2; i++ {
		branch = append(branch, ct.Mine(t, bad, clock, common.Address{2}, nil, nil))
	}
	cp := main[4]
	eng := &reporter{}
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: eng, Clock: clock, Checkpoint: &chain.Checkpoint{Number: cp.Height(), Hash: cp.Hash()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range append(append([]*chain.Block(nil), main[:2]...), branch...) {
		if err := c.InsertBlock(b); err != nil {
			t.Fatalf("block %d: %v", b.Height(), err)
		}
		if b == branch[0] {
			eng.fin = b.Hash() // from the branch's second block on, its votes finalize its first
		}
	}
	if got := c.Finalized(); got.Number != 0 {
		t.Fatalf("finality %d (%x) taken from a branch that has not reached the checkpoint", got.Number, got.Hash)
	}
	eng.fin = common.Hash{}
	for _, b := range main[2:] {
		if err := c.InsertBlock(b); err != nil {
			t.Fatalf("the checkpoint's chain, block %d: %v", b.Height(), err)
		}
	}
	if c.Head().Hash() != main[5].Hash() {
		t.Fatalf("head %d (%x) is not the checkpoint's chain", c.Head().Height(), c.Head().Hash())
	}
	if got := c.Finalized(); got.Hash != cp.Hash() {
		t.Fatalf("finalized %d (%x), want the checkpoint", got.Number, got.Hash)
	}
	more := ct.Mine(t, bad, clock, common.Address{2}, nil, nil)
	if err := c.InsertBlock(more); !errors.Is(err, chain.ErrCheckpoint) && !errors.Is(err, chain.ErrRevertsFinalized) {
		t.Fatalf("the other branch grows: %v, want %v or %v", err, chain.ErrCheckpoint, chain.ErrRevertsFinalized)
	}
	if c.Head().Hash() != main[5].Hash() {
		t.Fatal("the head left the checkpoint's chain")
	}
}

// TestCheckpointRefusesDatabaseFinalizedBelowIt: a database that finalized
// a block before reaching the checkpoint's height (it was run without the
// checkpoint) cannot tell whether that block is on the checkpoint's chain,
// so it is refused with a message.
func TestCheckpointRefusesDatabaseFinalizedBelowIt(t *testing.T) {
	g, clock, eng, store, c := reporterChain(t)
	var blocks []*chain.Block
	for i := 0; i < 3; i++ {
		blocks = append(blocks, ct.Mine(t, c, clock, common.Address{1}, nil, nil))
		eng.fin = blocks[0].Hash()
	}
	if c.Finalized().Number != 1 {
		t.Fatal("setup: nothing finalized")
	}
	cp := &chain.Checkpoint{Number: 10, Hash: common.Hash{7}}
	if _, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: eng, Clock: clock, Checkpoint: cp}); err == nil || !strings.Contains(err.Error(), "empty data directory") {
		t.Fatalf("opened with a checkpoint above its finalized block: %v", err)
	}
}

// TestDatabaseFromBeforeANewParameterIsRefused: a data directory made
// before the genesis had an engine parameter (its stored genesis lacks it,
// as PoS genesis files before inactivity_quotient) is refused with a message
// that says the rules changed, not that the genesis file is another.
func TestDatabaseFromBeforeANewParameterIsRefused(t *testing.T) {
	genesis := func() *chain.Genesis { return ct.Genesis(1) }
	old := genesis()
	old.Engine.(*ct.Config).Param = 0 // as the chaind before it wrote the genesis
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	if _, err := chain.Open(chain.Config{Store: store, Genesis: old, Engine: ct.Engine{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Open(chain.Config{Store: store, Genesis: genesis(), Engine: ct.Engine{}}); err == nil || !strings.Contains(err.Error(), "consensus rules changed") {
		t.Fatalf("opened a database made before a genesis parameter existed: %v", err)
	}
}
