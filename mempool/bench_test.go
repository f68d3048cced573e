package mempool_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// BenchmarkAdd admits freshly decoded transfers from 100 senders: sender
// recovery, the stateless and stateful rules, and insertion.
func BenchmarkAdd(b *testing.B) {
	const senders = 100
	g := ct.Genesis(senders)
	clock := ct.NewClock(ct.GenesisTime)
	c := ct.NewChain(b, g, clock)
	p := mempool.New(mempool.Config{Chain: c, MaxTxs: b.N + 1, MaxNonceGap: uint64(b.N)})
	txs := make([]*types.Transaction, b.N)
	for i := range txs {
		signed := ct.Transfer(g, i%senders, uint64(i/senders), common.Address{1}, big.NewInt(1))
		raw, _ := signed.MarshalBinary()
		txs[i] = new(types.Transaction)
		if err := txs[i].UnmarshalBinary(raw); err != nil { // as from RPC: no cached sender
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for _, tx := range txs {
		if err := p.Add(tx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkAddFullPool admits the same 2,000 transfers (100 senders, 2 gwei
// tip), in turn, into an empty pool, into one holding 50,000 cheaper
// transfers (1,000 senders, 1 gwei) with room left, and into one full of
// them, where each admission evicts one. It reports the time per admission
// in each; full/large is what eviction costs (it must not scan the pool),
// large/empty what a large pool costs anyway (memory, maps, GC).
func BenchmarkAddFullPool(b *testing.B) {
	const fillSenders, fillNonces, inSenders, inNonces = 1000, 50, 100, 20
	g := ct.Genesis(fillSenders + inSenders)
	c := ct.NewChain(b, g, ct.NewClock(ct.GenesisTime))
	sign := func(from int, nonce uint64, tipGwei int64) *types.Transaction {
		tip := big.NewInt(tipGwei * 1e9)
		tx := ct.Sign(g, from, &types.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: nonce, GasTipCap: tip,
			GasFeeCap: new(big.Int).Add(tip, g.BaseFee.Big()), Gas: chain.TransferGas, To: &common.Address{1}, Value: big.NewInt(1)})
		g.Sender(tx) // cache the sender and the hash, as the pool does on first sight
		tx.Hash()
		return tx
	}
	var fill, incoming []*types.Transaction
	for s := range fillSenders {
		for n := range fillNonces {
			fill = append(fill, sign(s, uint64(n), 1))
		}
	}
	for s := range inSenders {
		for n := range inNonces {
			incoming = append(incoming, sign(fillSenders+s, uint64(n), 2))
		}
	}
	newPool := func(prefill []*types.Transaction, room int) *mempool.Pool {
		p := mempool.New(mempool.Config{Chain: c, MaxTxs: len(fill) + room, MaxNonceGap: 64})
		for _, tx := range prefill {
			if err := p.Add(tx); err != nil {
				b.Fatal(err)
			}
		}
		return p
	}
	var empty, large, full time.Duration
	for b.Loop() {
		pools := []*mempool.Pool{newPool(nil, 0), newPool(fill, len(incoming)), newPool(fill, 0)}
		took := []*time.Duration{&empty, &large, &full}
		for k := 0; k < len(incoming); k += 100 { // in turn, 100 at a time: load changes hit all three alike
			for j := range pools {
				i := (j + k/100) % len(pools) // and each goes first as often
				p := pools[i]
				t0 := time.Now()
				for _, tx := range incoming[k : k+100] {
					if err := p.Add(tx); err != nil {
						b.Fatal(err)
					}
				}
				*took[i] += time.Since(t0)
			}
		}
	}
	per := float64(b.N * len(incoming))
	b.ReportMetric(float64(empty.Nanoseconds())/per, "ns/tx-empty")
	b.ReportMetric(float64(large.Nanoseconds())/per, "ns/tx-large")
	b.ReportMetric(float64(full.Nanoseconds())/per, "ns/tx-full")
	b.ReportMetric(float64(full)/float64(large), "full/large")
	b.ReportMetric(float64(large)/float64(empty), "large/empty")
}
