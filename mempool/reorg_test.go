package mempool_test

import (
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestReorgReadmitsAbandonedTransactions: a transfer mined only on the losing
// branch goes back to the pool and is mined again on the winning one.
func TestReorgReadmitsAbandonedTransactions(t *testing.T) {
	g, a, clockA, pool := setup(t, 2, mempool.Config{})
	clockB := ct.NewClock(ct.GenesisTime.Add(300 * time.Millisecond))
	b := ct.NewChain(t, g, clockB)

	lost := ct.Transfer(g, 0, 0, common.Address{0x10}, ct.Ether(1))
	if err := pool.Add(lost); err != nil {
		t.Fatal(err)
	}
	ct.Mine(t, a, clockA, common.Address{0xa}, pool.Pending(), nil)
	if pool.Len() != 0 {
		t.Fatal("mined transaction still pooled")
	}
	kept := ct.Transfer(g, 1, 0, common.Address{0x11}, ct.Ether(2))
	var heavier []*chain.Block
	for i := 0; i < 2; i++ {
		var txs []*types.Transaction
		if i == 0 {
			txs = []*types.Transaction{kept}
		}
		heavier = append(heavier, ct.Mine(t, b, clockB, common.Address{0xb}, txs, nil))
	}
	for _, blk := range heavier {
		if err := a.InsertBlock(blk); err != nil {
			t.Fatal(err)
		}
	}
	if a.Head().Hash() != b.Head().Hash() {
		t.Fatal("no reorg")
	}
	if pool.Get(lost.Hash()) == nil {
		t.Fatal("transaction of the abandoned branch was not re-admitted")
	}
	if pool.Get(kept.Hash()) != nil {
		t.Fatal("transaction of the winning branch is in the pool")
	}
	clockA.Advance(time.Second)
	again := ct.Mine(t, a, clockA, common.Address{0xa}, pool.Pending(), nil)
	if len(again.Txs) != 1 || again.Txs[0].Hash() != lost.Hash() {
		t.Fatal("re-admitted transaction was not mined again")
	}
	if bal := a.Account(common.Address{0x10}).Balance; bal.Cmp(ct.Ether(1)) != 0 {
		t.Fatalf("recipient has %v after re-mining", bal)
	}
}
