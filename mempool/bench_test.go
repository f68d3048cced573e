package mempool_test

import (
	"math/big"
	"testing"

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
