package chain_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestCheckBlockExecutesWithoutKeeping: an unsealed block built on the
// head passes CheckBlock and leaves the head and its state as they were;
// a block whose state root, transactions or parent are wrong is refused
// with a rule error, and one on another parent as not extending the head.
func TestCheckBlockExecutesWithoutKeeping(t *testing.T) {
	g := ct.Genesis(1)
	clk := ct.NewClock(ct.GenesisTime)
	c := ct.NewChain(t, g, clk)
	clk.Advance(time.Second)
	tx := ct.Transfer(g, 0, 0, common.Address{0xbb}, big.NewInt(5))
	b, err := c.BuildBlock(ct.Addr(1), []*types.Transaction{tx})
	if err != nil {
		t.Fatal(err)
	}
	root, head := c.StateRoot(), c.Head().Hash()
	if err := c.CheckBlock(b); err != nil {
		t.Fatalf("a block built on the head: %v", err)
	}
	if c.StateRoot() != root || c.Head().Hash() != head || c.Account(common.Address{0xbb}).Balance.Sign() != 0 {
		t.Fatal("CheckBlock changed the head or its state")
	}
	edited := func(edit func(*chain.Block)) *chain.Block {
		e := &chain.Block{Header: b.Header.Copy(), Txs: b.Txs}
		edit(e)
		return e
	}
	for name, tc := range map[string]struct {
		block *chain.Block
		kind  chain.ErrorKind
	}{
		"state root":  {edited(func(e *chain.Block) { e.Header.StateRoot = common.Hash{1} }), chain.ErrBadStateRoot},
		"no txs":      {edited(func(e *chain.Block) { e.Txs = nil }), chain.ErrBadGasUsed},
		"not on head": {edited(func(e *chain.Block) { e.Header.ParentHash = common.Hash{2} }), chain.ErrUnknownParent},
	} {
		err := c.CheckBlock(tc.block)
		if !errors.Is(err, tc.kind) || chain.IsRuleError(err) != (tc.kind != chain.ErrUnknownParent) {
			t.Errorf("%s: %v, want %v", name, err, tc.kind)
		}
	}
	if err := c.InsertBlock(b); err != nil {
		t.Fatalf("the checked block does not insert: %v", err)
	}
}
