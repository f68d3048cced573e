package chain_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// makeBlocks mines n blocks of perBlock transfers (from perBlock distinct
// senders) on an in-memory chain and returns them re-decoded from their wire
// encoding, as a peer would deliver them: no sender is cached.
func makeBlocks(b *testing.B, g *chain.Genesis, n, perBlock int) []*chain.Block {
	b.Helper()
	clock := ct.NewClock(ct.GenesisTime)
	src := ct.NewChain(b, g, clock)
	out := make([]*chain.Block, n)
	for i := range out {
		txs := make([]*types.Transaction, perBlock)
		for k := range txs {
			txs[k] = ct.Transfer(g, k, uint64(i), common.Address{byte(k), byte(k >> 8), 0xee}, big.NewInt(1))
		}
		blk := ct.Mine(b, src, clock, common.Address{0xc0}, txs, nil)
		enc, err := blk.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = new(chain.Block)
		if err := out[i].UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

func benchmarkImport(b *testing.B, perBlock int) {
	g := ct.Genesis(perBlock)
	blocks := makeBlocks(b, g, b.N, perBlock)
	store, err := chain.OpenStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	clock := ct.NewClock(ct.GenesisTime.Add(time.Duration(b.N+1) * time.Second))
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: ct.Engine{}, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for _, blk := range blocks {
		if err := c.InsertBlock(blk); err != nil {
			b.Fatal(err)
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/secs, "blocks/s")
	b.ReportMetric(float64(b.N*perBlock)/secs, "tx/s")
}

// BenchmarkImportBlock100 imports blocks of 100 transfers into a LevelDB on
// disk: sender recovery, execution, state root, one synced batch per block.
func BenchmarkImportBlock100(b *testing.B) { benchmarkImport(b, 100) }

// BenchmarkImportBlock1000 is the same with 1000 transfers per block.
func BenchmarkImportBlock1000(b *testing.B) { benchmarkImport(b, 1000) }

// BenchmarkStateRoot measures the root after changing 1000 of 100,000
// accounts, as a block of 500 transfers does.
func BenchmarkStateRoot(b *testing.B) {
	st := chain.NewState()
	addrs := make([]common.Address, 100_000)
	for i := range addrs {
		addrs[i] = common.BytesToAddress(crypto.Keccak256(big.NewInt(int64(i)).Bytes()))
		st.Set(addrs[i], chain.Account{Balance: big.NewInt(int64(i))})
	}
	st.Root()
	st.ClearJournal()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := 0; k < 1000; k++ {
			a := addrs[(i*1000+k)%len(addrs)]
			st.Set(a, chain.Account{Nonce: uint64(i), Balance: big.NewInt(int64(k))})
		}
		st.Root()
		st.ClearJournal()
	}
}

// BenchmarkSenderRecovery is one signature recovery of a transfer (a fresh
// decode each time, so nothing is cached): the cost every node that admits
// a transaction pays once, geth included, and so the floor of the CPU per
// accepted transfer that docs/performance.md compares.
func BenchmarkSenderRecovery(b *testing.B) {
	g := ct.Genesis(1)
	enc, err := ct.Transfer(g, 0, 0, common.Address{0xee}, big.NewInt(1)).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
		if _, err := g.Sender(tx); err != nil {
			b.Fatal(err)
		}
	}
}
