package chain_test

import (
	"math/big"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestAccountAtThroughReorgs: two chains from one genesis mine random
// transfers and repeatedly adopt each other's heavier branches; afterwards
// AccountAt gives, at every height of the canonical chain and for
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

// The 100,000-block chain of BenchmarkHistory, built once per test binary
// (its in-memory store lives as long as the process).
var (
	histOnce  sync.Once
	histChain *chain.Chain
	histClock *clock.Sim
)

// BenchmarkHistory works on a 100,000-block chain whose miner's balance
// every block changes ("busy"), and whose funded genesis account never moves
// ("idle"). balance reads both at the head and at height 0, in turn, and
// reports each and the height0/head ratios; import imports blocks in runs of
// 16, alternately with and without a goroutine reading both accounts at
// height 0 a thousand times a second, and reports both and their ratio.
// Interleaving makes the ratios hold on a machine whose load varies.
func BenchmarkHistory(b *testing.B) {
	histOnce.Do(func() {
		histClock = ct.NewClock(ct.GenesisTime)
		var err error
		histChain, err = chain.Open(chain.Config{Store: chain.OpenMemStore(), Genesis: ct.Genesis(1), Engine: ct.Engine{}, Clock: histClock})
		if err != nil {
			b.Fatal(err)
		}
		for range 100_000 {
			ct.Mine(b, histChain, histClock, common.Address{0xc0}, nil, nil)
		}
	})
	c, clock, miner, idle := histChain, histClock, common.Address{0xc0}, ct.Addr(0)
	b.Run("balance", func(b *testing.B) {
		var took [4]time.Duration // busy at head, busy at 0, idle at head, idle at 0
		for b.Loop() {
			for i, addr := range []common.Address{miner, miner, idle, idle} {
				height := c.Head().Height()
				if i%2 == 1 {
					height = 0
				}
				t0 := time.Now()
				if _, err := c.AccountAt(addr, height); err != nil {
					b.Fatal(err)
				}
				took[i] += time.Since(t0)
			}
		}
		for i, name := range []string{"ns-busy-head", "ns-busy-height0", "ns-idle-head", "ns-idle-height0"} {
			b.ReportMetric(float64(took[i].Nanoseconds())/float64(b.N), name)
		}
		b.ReportMetric(float64(took[1])/float64(took[0]), "busy-height0/head")
		b.ReportMetric(float64(took[3])/float64(took[2]), "idle-height0/head")
	})
	b.Run("import", func(b *testing.B) {
		var reading atomic.Bool
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if reading.Load() {
						c.AccountAt(miner, 0)
						c.AccountAt(idle, 0)
					}
				}
			}
		}()
		var plain, withReads time.Duration
		var nPlain, nReads int
		i := 0
		for b.Loop() {
			r := i/16%2 == 1
			reading.Store(r)
			t0 := time.Now()
			ct.Mine(b, c, clock, miner, nil, nil)
			if d := time.Since(t0); r {
				withReads, nReads = withReads+d, nReads+1
			} else {
				plain, nPlain = plain+d, nPlain+1
			}
			i++
		}
		close(stop)
		<-done
		if nPlain > 0 && nReads > 0 {
			p, w := float64(plain.Nanoseconds())/float64(nPlain), float64(withReads.Nanoseconds())/float64(nReads)
			b.ReportMetric(p, "ns-import")
			b.ReportMetric(w, "ns-import-reading")
			b.ReportMetric(w/p, "reading/plain")
		}
	})
}
