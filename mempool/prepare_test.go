package mempool_test

import (
	"math/big"
	"runtime"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestPrepareRecoversWhatAddWould: Prepare recovers the senders of the
// transactions an Add would recover (one each), not of those the checks
// before the recovery refuse (already pooled, below the minimum fee, wrong
// chain), and the Adds that follow recover nothing more.
func TestPrepareRecoversWhatAddWould(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: Prepare leaves the recoveries to Add")
	}
	g, _, _, p := setup(t, 2, mempool.Config{})
	pooled := ct.Transfer(g, 1, 0, common.Address{1}, big.NewInt(1))
	if err := p.Add(pooled); err != nil {
		t.Fatal(err)
	}
	copyOf := func(tx *types.Transaction) *types.Transaction { // the same transaction, its sender not cached
		enc, _ := tx.MarshalBinary()
		out := new(types.Transaction)
		if err := out.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		return out
	}
	wrongChain := ct.Genesis(2)
	wrongChain.ChainID = 99
	var good []*types.Transaction
	for n := range 40 {
		good = append(good, ct.Transfer(g, 0, uint64(n), common.Address{1}, big.NewInt(1)))
	}
	cheap := ct.Sign(g, 1, &types.DynamicFeeTx{ChainID: big.NewInt(int64(g.ChainID)), Nonce: 1, GasTipCap: big.NewInt(0),
		GasFeeCap: big.NewInt(1), Gas: chain.TransferGas, To: &common.Address{1}, Value: big.NewInt(1)})
	batch := append([]*types.Transaction{copyOf(pooled), copyOf(cheap), ct.Transfer(wrongChain, 0, 0, common.Address{1}, big.NewInt(1))}, good...)
	before := chain.SenderRecoveries()
	p.Prepare(batch)
	if got := chain.SenderRecoveries() - before; got != uint64(len(good)) {
		t.Fatalf("Prepare recovered %d senders, want the %d an Add would", got, len(good))
	}
	for _, tx := range good {
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	if got := chain.SenderRecoveries() - before; got != uint64(len(good)) {
		t.Fatalf("%d recoveries after the Adds, want %d: one per transaction", got, len(good))
	}
}
