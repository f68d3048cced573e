package mempool_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func setup(t *testing.T, funded int, cfg mempool.Config) (*chain.Genesis, *chain.Chain, *clock.Sim, *mempool.Pool) {
	g := ct.Genesis(funded)
	clock := ct.NewClock(ct.GenesisTime)
	c := ct.NewChain(t, g, clock)
	cfg.Chain = c
	p := mempool.New(cfg)
	c.Subscribe(p.Reset)
	return g, c, clock, p
}

// tipped signs a transfer from key with the given tip and a max fee of base
// fee + tip.
func tipped(g *chain.Genesis, key int, nonce uint64, tipGwei int64) *types.Transaction {
	tip := new(big.Int).Mul(big.NewInt(tipGwei), big.NewInt(1e9))
	to := common.Address{0x77}
	return ct.Sign(g, key, &types.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: nonce, GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(tip, g.BaseFee.Big()), Gas: chain.TransferGas, To: &to, Value: big.NewInt(1)})
}

func TestAdmissionRules(t *testing.T) {
	g, _, _, p := setup(t, 2, mempool.Config{})
	to := common.Address{1}
	other := ct.Genesis(2)
	other.ChainID = 99
	poor := 5
	tests := []struct {
		name string
		tx   *types.Transaction
		want error
	}{
		{"wrong chain id", ct.Transfer(other, 0, 0, to, big.NewInt(1)), chain.ErrWrongChainID},
		{"unprotected legacy", func() *types.Transaction {
			tx, _ := types.SignNewTx(ct.Key(0), types.HomesteadSigner{}, &types.LegacyTx{GasPrice: big.NewInt(2e9), Gas: 21000, To: &to})
			return tx
		}(), chain.ErrUnprotected},
		{"contract creation", ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: big.NewInt(1337), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 53000}), chain.ErrContractCreation},
		{"calldata", ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: big.NewInt(1337), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 30000, To: &to, Data: []byte{1}}), chain.ErrCalldata},
		{"gas below 21000", ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: big.NewInt(1337), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 20999, To: &to}), chain.ErrIntrinsicGas},
		{"fee below base fee", ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: big.NewInt(1337), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1e8), Gas: 21000, To: &to}), chain.ErrFeeCapTooLow},
		{"insufficient funds", ct.Transfer(g, poor, 0, to, big.NewInt(1)), chain.ErrInsufficientFunds},
		{"value above balance", ct.Transfer(g, 0, 0, to, ct.Ether(1001)), chain.ErrInsufficientFunds},
		{"nonce far ahead", ct.Transfer(g, 0, 5000, to, big.NewInt(1)), chain.ErrNonceTooHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := p.Add(tt.tx); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if p.Len() != 0 {
				t.Fatal("refused transaction was pooled")
			}
		})
	}
	ok := ct.Transfer(g, 0, 0, to, big.NewInt(1))
	if err := p.Add(ok); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(ok); !errors.Is(err, mempool.ErrAlreadyKnown) {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestMinimumPrice(t *testing.T) {
	g, _, _, p := setup(t, 1, mempool.Config{MinGasPrice: big.NewInt(5e9)})
	if err := p.Add(tipped(g, 0, 0, 1)); !errors.Is(err, mempool.ErrUnderpriced) {
		t.Fatalf("got %v", err)
	}
	if err := p.Add(tipped(g, 0, 0, 4)); err != nil {
		t.Fatal(err)
	}
}

func TestGapsQueueAndOrderingByTip(t *testing.T) {
	g, _, _, p := setup(t, 3, mempool.Config{})
	mustAdd := func(tx *types.Transaction) {
		t.Helper()
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	mustAdd(tipped(g, 0, 2, 9)) // gap: queued
	if pending, queued := p.Status(); pending != 0 || queued != 1 {
		t.Fatalf("status %d/%d, want 0 pending 1 queued", pending, queued)
	}
	if n := p.PendingNonce(ct.Addr(0)); n != 0 {
		t.Fatalf("pending nonce %d with only a gapped tx", n)
	}
	mustAdd(tipped(g, 0, 0, 1))
	mustAdd(tipped(g, 0, 1, 5))
	mustAdd(tipped(g, 1, 0, 3))
	mustAdd(tipped(g, 2, 0, 1))
	if pending, queued := p.Status(); pending != 5 || queued != 0 {
		t.Fatalf("status %d/%d, want all 5 pending once the gap filled", pending, queued)
	}
	if n := p.PendingNonce(ct.Addr(0)); n != 3 {
		t.Fatalf("pending nonce %d, want 3", n)
	}
	got := p.Pending()
	// key1 (3 gwei) first; then key0's nonce 0 (1 gwei, earlier than key2's),
	// which unlocks key0's 5 and 9 gwei txs; key2 last.
	want := []struct {
		key   int
		nonce uint64
	}{{1, 0}, {0, 0}, {0, 1}, {0, 2}, {2, 0}}
	for i, w := range want {
		from, _ := g.Sender(got[i])
		if from != ct.Addr(w.key) || got[i].Nonce() != w.nonce {
			t.Fatalf("position %d: key %s nonce %d, want key %d nonce %d", i, from.Hex(), got[i].Nonce(), w.key, w.nonce)
		}
	}
}

func TestReplacementNeedsTenPercentBump(t *testing.T) {
	g, _, _, p := setup(t, 1, mempool.Config{})
	to := common.Address{3}
	mk := func(tip, fee int64) *types.Transaction {
		return ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: big.NewInt(1337), GasTipCap: big.NewInt(tip), GasFeeCap: big.NewInt(fee), Gas: 21000, To: &to})
	}
	orig := mk(1e9, 10e9)
	if err := p.Add(orig); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(mk(1.09e9, 20e9)); !errors.Is(err, mempool.ErrReplaceUnderpriced) {
		t.Fatalf("9%% tip bump: %v", err)
	}
	if err := p.Add(mk(2e9, 10.9e9)); !errors.Is(err, mempool.ErrReplaceUnderpriced) {
		t.Fatalf("9%% fee bump: %v", err)
	}
	repl := mk(1.1e9, 11e9)
	if err := p.Add(repl); err != nil {
		t.Fatalf("10%% bump refused: %v", err)
	}
	if p.Len() != 1 || p.Get(orig.Hash()) != nil || p.Get(repl.Hash()) == nil {
		t.Fatal("replacement did not take the original's place")
	}
}

func TestFullPoolEvictsCheapest(t *testing.T) {
	g, _, _, p := setup(t, 4, mempool.Config{MaxTxs: 3})
	for key, tip := range []int64{5, 2, 7} {
		if err := p.Add(tipped(g, key, 0, tip)); err != nil {
			t.Fatal(err)
		}
	}
	cheap := tipped(g, 3, 0, 1)
	if err := p.Add(cheap); !errors.Is(err, mempool.ErrPoolFull) {
		t.Fatalf("cheaper than all: %v", err)
	}
	better := tipped(g, 3, 0, 3)
	if err := p.Add(better); err != nil {
		t.Fatalf("better than the cheapest: %v", err)
	}
	if p.Len() != 3 || p.Get(tipped(g, 1, 0, 2).Hash()) != nil {
		t.Fatal("the 2 gwei transaction was not the one evicted")
	}
}

func TestBlocksDropIncludedAndInvalidated(t *testing.T) {
	g, c, clock, p := setup(t, 2, mempool.Config{})
	a0, a1 := tipped(g, 0, 0, 2), tipped(g, 0, 1, 2)
	for _, tx := range []*types.Transaction{a0, a1} {
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	// A block from elsewhere includes a0 and a different nonce-1 tx.
	other := ct.Transfer(g, 0, 1, common.Address{9}, big.NewInt(5))
	ct.Mine(t, c, clock, common.Address{1}, []*types.Transaction{a0, other}, nil)
	if p.Len() != 0 {
		t.Fatalf("%d transactions left; the included and the nonce-used ones must go", p.Len())
	}
}
