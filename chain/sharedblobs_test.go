package chain_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestSimStoresHoldBlocksOnce: two chains on stores that share their
// content-addressed values import the same blocks; the second adds no
// value to the shared blobs, its own database holds only empty values
// under the header keys and no state node, and it reads, replays and knows what it would on
// a store of its own: a block only the first imported is unknown to it.
func TestSimStoresHoldBlocksOnce(t *testing.T) {
	g := chaintest.Genesis(2)
	shared := chain.NewSharedBlobs()
	open := func() (*chain.Chain, *chain.Store) {
		store := chain.OpenSimStore(shared)
		t.Cleanup(func() { store.Close() })
		c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: chaintest.Engine{}, Clock: chaintest.NewClock(chaintest.GenesisTime)})
		if err != nil {
			t.Fatal(err)
		}
		return c, store
	}
	a, _ := open()
	clk := chaintest.NewClock(chaintest.GenesisTime)
	var blocks []*chain.Block
	for i := range 12 {
		tx := chaintest.Transfer(g, 0, uint64(i), chaintest.Addr(1), big.NewInt(int64(i+1)))
		blocks = append(blocks, chaintest.Mine(t, a, clk, chaintest.Addr(i%3+5), []*types.Transaction{tx}, nil))
	}
	held := shared.Len()
	b, bStore := open()
	for _, blk := range blocks[:len(blocks)-1] {
		if err := b.InsertBlock(blk); err != nil {
			t.Fatalf("insert block %d: %v", blk.Height(), err)
		}
	}
	if got := shared.Len(); got != held {
		t.Errorf("the second store added %d shared values; want 0", got-held)
	}
	last := blocks[len(blocks)-1]
	if _, err := b.BlockByHash(last.Hash()); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("a block only the first chain imported: err %v, want ErrNotFound", err)
	}
	if h := b.GetHeader(last.Hash()); h != nil {
		t.Errorf("the second chain knows the header of a block it never imported")
	}
	if err := b.InsertBlock(last); err != nil {
		t.Fatal(err)
	}
	if b.StateRoot() != a.StateRoot() || b.Head().Hash() != a.Head().Hash() {
		t.Fatalf("head %x root %x, want %x %x", b.Head().Hash(), b.StateRoot(), a.Head().Hash(), a.StateRoot())
	}
	for _, blk := range blocks {
		if n := chain.LocalHeaderBytes(bStore, blk.Hash()); n != 0 {
			t.Errorf("block %d: the store's own database holds %d bytes under its header key, want 0", blk.Height(), n)
		}
		got, err := b.BlockByHash(blk.Hash())
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash() != blk.Hash() || len(got.Txs) != 1 || got.Txs[0].Hash() != blk.Txs[0].Hash() {
			t.Errorf("block %d read back differs", blk.Height())
		}
	}
	if got := b.Account(chaintest.Addr(1)); got.Balance.Cmp(a.Account(chaintest.Addr(1)).Balance) != 0 {
		t.Errorf("balance %v, want %v", got.Balance, a.Account(chaintest.Addr(1)).Balance)
	}
	if n := chain.LocalStateNodes(bStore); n != 0 {
		t.Errorf("the store's own database holds %d state nodes, want 0", n)
	}
	if err := b.VerifyReplay(); err != nil {
		t.Errorf("replay: %v", err)
	}
}
