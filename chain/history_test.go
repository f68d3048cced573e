package chain_test

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestAccountAtThroughReorgs: two chains from one genesis mine random
// transfers and repeatedly adopt each other's heavier branches; afterwards
// the history index gives, at every height of the canonical chain and for
// every account, exactly the account the chain held right after that block.
func TestAccountAtThroughReorgs(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 18))
		g := ct.Genesis(4)
		clock := ct.NewClock(ct.GenesisTime)
		chains := []*chain.Chain{ct.NewChain(t, g, clock), ct.NewChain(t, g, clock)}
		addrs := []common.Address{ct.Addr(0), ct.Addr(1), ct.Addr(2), ct.Addr(3), {0x77}, {0xc0}}
		after := map[common.Hash][]chain.Account{} // block -> accounts right after it
		record := func(c *chain.Chain) {
			accts := make([]chain.Account, len(addrs))
			for i, a := range addrs {
				accts[i] = c.Account(a)
			}
			after[c.Head().Hash()] = accts
		}
		record(chains[0])
		mined := make([][]*chain.Block, 2)
		for step := 0; step < 120; step++ {
			i := rng.IntN(2)
			c := chains[i]
			if rng.IntN(8) == 0 { // adopt the other chain's blocks: a reorg if its branch is heavier
				for _, b := range mined[1-i] {
					c.InsertBlock(b)
				}
				continue
			}
			var txs []*types.Transaction
			if rng.IntN(3) > 0 {
				from, to := rng.IntN(4), addrs[rng.IntN(len(addrs))]
				txs = append(txs, ct.Transfer(g, from, c.Account(ct.Addr(from)).Nonce, to, big.NewInt(int64(1+rng.IntN(1e6)))))
			}
			b := ct.Mine(t, c, clock, addrs[5], txs, nil)
			record(c)
			mined[i] = append(mined[i], b)
		}
		for _, c := range chains {
			for h := uint64(0); h <= c.Head().Height(); h++ {
				b, err := c.BlockByHeight(h)
				if err != nil {
					t.Fatal(err)
				}
				want, ok := after[b.Hash()]
				if !ok {
					t.Fatalf("seed %d: no record of block %d", seed, h)
				}
				for k, a := range addrs {
					got, err := c.AccountAt(a, h)
					if err != nil {
						t.Fatal(err)
					}
					if got.Nonce != want[k].Nonce || got.Balance.Cmp(want[k].Balance) != 0 {
						t.Fatalf("seed %d: %s at %d: got %v/%d, want %v/%d", seed, a.Hex(), h, got.Balance, got.Nonce, want[k].Balance, want[k].Nonce)
					}
				}
			}
			if _, err := c.AccountAt(addrs[0], c.Head().Height()+1); err == nil {
				t.Fatal("an account above the head")
			}
		}
	}
}

// BenchmarkHistory reads the miner's balance (changed by every block) on a
// 100,000-block chain at the head and at height 0, and imports blocks with
// and without a goroutine reading history at height 0 a thousand times a
// second all the while. Compare the ns/op of the pairs (same run):
// balance-at-0/balance-at-head and import-reading/import.
func BenchmarkHistory(b *testing.B) {
	const n = 100_000
	g := ct.Genesis(1)
	clock := ct.NewClock(ct.GenesisTime)
	c := ct.NewChain(b, g, clock)
	miner := common.Address{0xc0}
	for range n {
		ct.Mine(b, c, clock, miner, nil, nil)
	}
	read := func(b *testing.B, height uint64) {
		for b.Loop() {
			if _, err := c.AccountAt(miner, height); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("balance-at-head", func(b *testing.B) { read(b, c.Head().Height()) })
	b.Run("balance-at-0", func(b *testing.B) { read(b, 0) })
	importing := func(b *testing.B, reads bool) {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for reads {
				select {
				case <-stop:
					return
				case <-tick.C:
					c.AccountAt(miner, 0)
				}
			}
		}()
		for b.Loop() {
			ct.Mine(b, c, clock, miner, nil, nil)
		}
		close(stop)
		<-done
	}
	b.Run("import", func(b *testing.B) { importing(b, false) })
	b.Run("import-reading", func(b *testing.B) { importing(b, true) })
}
