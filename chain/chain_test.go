package chain_test

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func balance(c *chain.Chain, addr common.Address) *big.Int { return c.Account(addr).Balance }

func TestTransferPaysValueFeeAndReward(t *testing.T) {
	g := ct.Genesis(1)
	clock := ct.NewClock(ct.GenesisTime)
	c := ct.NewChain(t, g, clock)
	miner, to := common.Address{0xaa}, common.Address{0xbb}
	tx := ct.Transfer(g, 0, 0, to, ct.Ether(3))
	b := ct.Mine(t, c, clock, miner, []*types.Transaction{tx}, nil)

	price := g.EffectiveGasPrice(tx) // base fee 1 gwei + tip 1 gwei
	fee := new(big.Int).Mul(big.NewInt(chain.TransferGas), price)
	wantSender := new(big.Int).Sub(ct.Ether(1000), new(big.Int).Add(ct.Ether(3), fee))
	if got := balance(c, ct.Addr(0)); got.Cmp(wantSender) != 0 {
		t.Errorf("sender balance %v, want %v", got, wantSender)
	}
	if got := balance(c, to); got.Cmp(ct.Ether(3)) != 0 {
		t.Errorf("recipient balance %v, want 3 ether", got)
	}
	if got, want := balance(c, miner), new(big.Int).Add(g.BlockReward.Big(), fee); got.Cmp(want) != 0 {
		t.Errorf("miner balance %v, want reward + fee %v", got, want)
	}
	if c.Account(ct.Addr(0)).Nonce != 1 {
		t.Errorf("sender nonce not incremented")
	}
	if b.Header.GasUsed != chain.TransferGas {
		t.Errorf("gas used %d", b.Header.GasUsed)
	}
	got, loc, err := c.Tx(tx.Hash())
	if err != nil || got.Hash() != tx.Hash() || loc.Block.Hash() != b.Hash() || loc.Index != 0 {
		t.Fatalf("tx lookup: %v %v", loc, err)
	}
	// History through undo records: before block 1 the sender had 1000 ether.
	if a, err := c.AccountAt(ct.Addr(0), 0); err != nil || a.Balance.Cmp(ct.Ether(1000)) != 0 || a.Nonce != 0 {
		t.Errorf("account at genesis: %v %v", a, err)
	}
	if a, err := c.AccountAt(miner, 0); err != nil || a.Balance.Sign() != 0 {
		t.Errorf("miner at genesis: %v %v", a, err)
	}
}

// TestBlockAcceptance feeds blocks that each break one rule; each must be
// refused with its kind, and the chain must stay as it was.
func TestBlockAcceptance(t *testing.T) {
	g := ct.Genesis(2)
	clock := ct.NewClock(ct.GenesisTime)
	c := ct.NewChain(t, g, clock)
	ct.Mine(t, c, clock, common.Address{1}, nil, nil)

	valid := func(txs ...*types.Transaction) *chain.Block {
		clock.Advance(time.Second)
		b, err := c.BuildBlock(common.Address{1}, txs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	resign := func(b *chain.Block) {
		b.Header.TxRoot, b.Header.ReceiptRoot = chain.TxRoot(b.Txs), chain.ReceiptRoot(b.Txs)
	}
	to := common.Address{2}
	tests := []struct {
		name string
		make func() *chain.Block
		want error
	}{
		{"unknown parent", func() *chain.Block { b := valid(); b.Header.ParentHash = common.Hash{9}; return b }, chain.ErrUnknownParent},
		{"bad height", func() *chain.Block { b := valid(); b.Header.Height += 1; return b }, chain.ErrBadHeight},
		{"time not after parent", func() *chain.Block { b := valid(); b.Header.Time = c.Head().Header.Time; return b }, chain.ErrBadTime},
		{"from the future", func() *chain.Block {
			b := valid()
			b.Header.Time = uint64(clock.Now().Add(g.MaxFuture.D() + time.Second).UnixMilli())
			return b
		}, chain.ErrFutureBlock},
		{"bad tx root", func() *chain.Block {
			b := valid(ct.Transfer(g, 0, 1, to, big.NewInt(1)))
			b.Header.TxRoot = common.Hash{7}
			return b
		}, chain.ErrBadTxRoot},
		{"bad receipt root", func() *chain.Block {
			b := valid(ct.Transfer(g, 0, 1, to, big.NewInt(1)))
			b.Header.ReceiptRoot = common.Hash{7}
			return b
		}, chain.ErrBadReceiptRoot},
		{"bad gas limit", func() *chain.Block { b := valid(); b.Header.GasLimit++; return b }, chain.ErrBadGasLimit},
		{"bad base fee", func() *chain.Block { b := valid(); b.Header.BaseFee = big.NewInt(1); return b }, chain.ErrBadBaseFee},
		{"no base fee", func() *chain.Block { b := valid(); b.Header.BaseFee = nil; return b }, chain.ErrBadBaseFee},
		{"bad gas used", func() *chain.Block { b := valid(); b.Header.GasUsed = chain.TransferGas; return b }, chain.ErrBadGasUsed},
		{"bad state root", func() *chain.Block { b := valid(); b.Header.StateRoot = common.Hash{1}; return b }, chain.ErrBadStateRoot},
		{"nonce gap", func() *chain.Block {
			b := valid()
			b.Txs = []*types.Transaction{ct.Transfer(g, 0, 5, to, big.NewInt(1))}
			b.Header.GasUsed = chain.TransferGas
			resign(b)
			return b
		}, chain.ErrNonceTooHigh},
		{"overdraft", func() *chain.Block {
			b := valid()
			b.Txs = []*types.Transaction{ct.Transfer(g, 1, 0, to, ct.Ether(2000))}
			b.Header.GasUsed = chain.TransferGas
			resign(b)
			return b
		}, chain.ErrInsufficientFunds},
		{"contract creation", func() *chain.Block {
			b := valid()
			b.Txs = []*types.Transaction{ct.Sign(g, 1, &types.DynamicFeeTx{ChainID: big.NewInt(1337), GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 60000})}
			b.Header.GasUsed = chain.TransferGas
			resign(b)
			return b
		}, chain.ErrContractCreation},
		{"wrong chain id", func() *chain.Block {
			other := ct.Genesis(2)
			other.ChainID = 5
			b := valid()
			b.Txs = []*types.Transaction{ct.Transfer(other, 1, 0, to, big.NewInt(1))}
			b.Header.GasUsed = chain.TransferGas
			resign(b)
			return b
		}, chain.ErrWrongChainID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, root := c.Head().Hash(), c.StateRoot()
			err := c.InsertBlock(tt.make())
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if c.Head().Hash() != head || c.StateRoot() != root {
				t.Fatalf("chain changed by a refused block")
			}
		})
	}
	b := valid(ct.Transfer(g, 0, 0, to, big.NewInt(1)))
	if err := c.InsertBlock(b); err != nil {
		t.Fatalf("valid block refused: %v", err)
	}
	if err := c.InsertBlock(b); !errors.Is(err, chain.ErrKnownBlock) {
		t.Fatalf("second insert: %v, want ErrKnownBlock", err)
	}
}

func TestReorgFollowsHeavierBranchAndRollsBack(t *testing.T) {
	g := ct.Genesis(3)
	clockA, clockB := ct.NewClock(ct.GenesisTime), ct.NewClock(ct.GenesisTime.Add(500*time.Millisecond))
	a, b := ct.NewChain(t, g, clockA), ct.NewChain(t, g, clockB)
	var events []chain.HeadEvent
	a.Subscribe(func(ev chain.HeadEvent) { events = append(events, ev) })

	shared := ct.Mine(t, a, clockA, common.Address{0xa}, nil, nil)
	if err := b.InsertBlock(shared); err != nil {
		t.Fatal(err)
	}
	// Branch A: 2 blocks, with tx1 (key 0 pays 5 ether to X).
	x := common.Address{0x55}
	tx1 := ct.Transfer(g, 0, 0, x, ct.Ether(5))
	a1 := ct.Mine(t, a, clockA, common.Address{0xa}, []*types.Transaction{tx1}, nil)
	ct.Mine(t, a, clockA, common.Address{0xa}, nil, nil)
	// Branch B: 3 blocks, with tx2 (key 1 pays 7 ether to X).
	tx2 := ct.Transfer(g, 1, 0, x, ct.Ether(7))
	var branchB []*chain.Block
	branchB = append(branchB, ct.Mine(t, b, clockB, common.Address{0xb}, []*types.Transaction{tx2}, nil))
	branchB = append(branchB, ct.Mine(t, b, clockB, common.Address{0xb}, nil, nil))
	branchB = append(branchB, ct.Mine(t, b, clockB, common.Address{0xb}, nil, nil))

	events = nil
	for i, blk := range branchB {
		if err := a.InsertBlock(blk); err != nil {
			t.Fatalf("insert B%d: %v", i, err)
		}
		if i == 1 && a.Head().Hash() == blk.Hash() {
			t.Fatalf("equal weight must not switch (first seen wins)")
		}
	}
	if a.Head().Hash() != b.Head().Hash() {
		t.Fatalf("did not switch to the heavier branch")
	}
	if a.StateRoot() != b.Head().Header.StateRoot {
		t.Fatalf("state root after reorg differs from the branch's")
	}
	for _, addr := range []common.Address{ct.Addr(0), ct.Addr(1), x, {0xa}, {0xb}} {
		if got, want := a.Account(addr), b.Account(addr); got.Balance.Cmp(want.Balance) != 0 || got.Nonce != want.Nonce {
			t.Errorf("%s: %v, fresh execution of the branch gives %v", addr.Hex(), got, want)
		}
	}
	if err := a.VerifyReplay(); err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || len(events[0].Removed) != 2 || len(events[0].Added) != 3 || events[0].Removed[1].Hash() != a1.Hash() {
		t.Fatalf("reorg event: %d events", len(events))
	}
	if _, _, err := a.Tx(tx1.Hash()); !errors.Is(err, chain.ErrNotFound) {
		t.Errorf("tx of the abandoned branch still indexed: %v", err)
	}
	if _, _, err := a.Tx(tx2.Hash()); err != nil {
		t.Errorf("tx of the new branch not indexed: %v", err)
	}
	tree, err := a.BlockTree(0, 10)
	if err != nil {
		t.Fatal(err)
	}
	side := 0
	for _, n := range tree {
		if !n.Canonical {
			side++
		}
	}
	if len(tree) != 7 || side != 2 {
		t.Errorf("block tree: %d blocks, %d on the side; want 7 and 2", len(tree), side)
	}
}

func TestReorgToInvalidBranchChangesNothing(t *testing.T) {
	g := ct.Genesis(1)
	clockA, clockB := ct.NewClock(ct.GenesisTime), ct.NewClock(ct.GenesisTime.Add(time.Millisecond))
	a, b := ct.NewChain(t, g, clockA), ct.NewChain(t, g, clockB)
	ct.Mine(t, a, clockA, common.Address{0xa}, nil, nil)
	good := ct.Mine(t, b, clockB, common.Address{0xb}, nil, nil)
	bad := ct.Mine(t, b, clockB, common.Address{0xb}, nil, func(blk *chain.Block) { blk.Header.Bits = 5 })
	// b accepted "bad" because it computed its root; now break the root and
	// re-link so that the heavier branch fails only at execution.
	forged := &chain.Block{Header: bad.Header.Copy(), Txs: bad.Txs}
	forged.Header.StateRoot = common.Hash{0xde, 0xad}
	head, root := a.Head().Hash(), a.StateRoot()
	if err := a.InsertBlock(good); err != nil {
		t.Fatal(err)
	}
	if err := a.InsertBlock(forged); !errors.Is(err, chain.ErrBadStateRoot) {
		t.Fatalf("got %v, want bad state root", err)
	}
	if a.Head().Hash() != head || a.StateRoot() != root {
		t.Fatal("a failed reorg changed the chain")
	}
	if err := a.VerifyReplay(); err != nil {
		t.Fatal(err)
	}
}

func TestReopenResumesAndRefusesOtherGenesis(t *testing.T) {
	dir := t.TempDir()
	g := ct.Genesis(1)
	clock := ct.NewClock(ct.GenesisTime)
	store, err := chain.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: ct.Engine{}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ct.Mine(t, c, clock, common.Address{1}, []*types.Transaction{ct.Transfer(g, 0, 0, common.Address{2}, big.NewInt(5))}, nil)
	head := c.Head().Hash()
	store.Close()

	store, err = chain.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err = chain.Open(chain.Config{Store: store, Genesis: g, Engine: ct.Engine{}, Clock: clock})
	if err != nil || c.Head().Hash() != head || c.Account(common.Address{2}).Balance.Int64() != 5 {
		t.Fatalf("reopen: %v", err)
	}
	other := ct.Genesis(2)
	if _, err := chain.Open(chain.Config{Store: store, Genesis: other, Engine: ct.Engine{}}); err == nil {
		t.Fatal("opened a database with another genesis")
	}
	if _, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: recordingGenesis{}}); err == nil || !strings.Contains(err.Error(), "consensus rules changed") {
		t.Fatalf("opened a database whose genesis block the engine now builds differently: %v", err)
	}
	store.Close()
}

// recordingGenesis is the test engine with one more record in its genesis
// state: the same genesis file, another genesis block.
type recordingGenesis struct{ ct.Engine }

func (recordingGenesis) InitGenesis(_ *chain.Genesis, _ *chain.Header, st *chain.State) {
	st.SetRecord(common.Hash{1}, []byte{1})
}

// TestSubscribersMayReadWhileOthersInsert: subscribers read the chain while
// other goroutines insert blocks; this once deadlocked (an inserter held the
// write lock while waiting for the subscriber, which waited for a read lock).
func TestSubscribersMayReadWhileOthersInsert(t *testing.T) {
	g := ct.Genesis(1)
	clock := ct.NewClock(ct.GenesisTime)
	src := ct.NewChain(t, g, clock)
	var blocks []*chain.Block
	for i := 0; i < 200; i++ {
		blocks = append(blocks, ct.Mine(t, src, clock, common.Address{byte(i)}, nil, nil))
	}
	dst := ct.NewChain(t, g, clock)
	events := 0
	dst.Subscribe(func(ev chain.HeadEvent) {
		events++
		time.Sleep(50 * time.Microsecond)
		dst.Account(common.Address{1})
		dst.Head()
	})
	done := make(chan struct{})
	for w := 0; w < 3; w++ {
		go func() {
			for _, b := range blocks {
				dst.InsertBlock(b) // the others insert it too: ErrKnownBlock is fine
			}
			done <- struct{}{}
		}()
	}
	for w := 0; w < 3; w++ {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("deadlock: inserting goroutines are stuck")
		}
	}
	if dst.Head().Hash() != src.Head().Hash() || events != 200 {
		t.Fatalf("head %d, %d events", dst.Head().Height(), events)
	}
}
