package mempool

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// scanCheapest is the eviction rule by brute force: among each sender's
// highest-nonce transaction, the lowest tip, the latest arrival on ties.
func scanCheapest(p *Pool) *entry {
	var victim *entry
	for _, txs := range p.senders {
		var last *entry
		for _, e := range txs {
			if last == nil || e.tx.Nonce() > last.tx.Nonce() {
				last = e
			}
		}
		if victim == nil || last.tip.Cmp(victim.tip) < 0 || (last.tip.Cmp(victim.tip) == 0 && last.seq > victim.seq) {
			victim = last
		}
	}
	return victim
}

// minePending advances the clock by a second and imports a block of the
// pool's pending transactions.
func minePending(t *testing.T, c *chain.Chain, clk *clock.Sim, p *Pool) {
	t.Helper()
	clk.Advance(time.Second)
	b, err := c.BuildBlock(common.Address{0xc0}, p.Pending())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InsertBlock(b); err != nil {
		t.Fatal(err)
	}
}

// TestEvictQueueMatchesScan: over random adds (gaps, replacements, a full
// pool evicting), mined blocks and the resets they cause, the queue's
// candidate is always the one a scan of the whole pool finds.
func TestEvictQueueMatchesScan(t *testing.T) {
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 5))
		g := ct.Genesis(8)
		clock := ct.NewClock(ct.GenesisTime)
		c := ct.NewChain(t, g, clock)
		p := New(Config{Chain: c, MaxTxs: 12, MaxNonceGap: 6})
		c.Subscribe(p.Reset)
		for step := range 300 {
			if rng.IntN(25) == 0 {
				minePending(t, c, clock, p)
			} else {
				from := rng.IntN(8)
				nonce := c.Account(ct.Addr(from)).Nonce + uint64(rng.IntN(5))
				tip := big.NewInt(int64(1+rng.IntN(6)) * 1e9)
				_ = p.Add(ct.Sign(g, from, &types.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: nonce, GasTipCap: tip,
					GasFeeCap: new(big.Int).Add(tip, g.BaseFee.Big()), Gas: chain.TransferGas, To: &common.Address{1}, Value: big.NewInt(1)}))
			}
			p.mu.RLock()
			got, want := p.evict.cheapest(), scanCheapest(p)
			senders, queued := len(p.senders), len(p.evict.heap)
			p.mu.RUnlock()
			if got != want || senders != queued {
				t.Fatalf("seed %d step %d: queue gives %v, scan %v; %d senders, %d queued", seed, step, got, want, senders, queued)
			}
		}
	}
}
