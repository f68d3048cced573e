package chain_test

import (
	"math/big"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// grindAccounts is the number of funded accounts of the grinding benchmark,
// grindSenders the keyed accounts that send its transfers, one each per block.
const (
	grindAccounts = 100_000
	grindSenders  = 200
)

// grindAddresses returns n distinct addresses from a seeded source; with
// shared, all of them begin with the same 12 bits (0xabc), as an attacker's
// addresses ground into one bucket of a 12-bit-bucket state tree would.
// Constructing them costs what grinding keys would without the key search:
// the state holds the same addresses either way.
func grindAddresses(n int, shared bool) []common.Address {
	r := rand.New(rand.NewPCG(29, 1))
	out := make([]common.Address, n)
	for i := range out {
		for j := range out[i] {
			out[i][j] = byte(r.Uint32())
		}
		if shared {
			out[i][0] = 0xab
			out[i][1] = 0xc0 | out[i][1]&0x0f
		}
	}
	return out
}

// processCPU is the process's user+system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchmarkGrind imports b.N blocks of perBlock transfers (at most
// grindSenders), each to one of grindAccounts funded addresses (and paying a
// coinbase among them), into a chain on disk, and reports the process CPU
// per imported block.
func benchmarkGrind(b *testing.B, shared bool, perBlock int) {
	g := ct.Genesis(grindSenders)
	accounts := grindAddresses(grindAccounts, shared)
	for _, a := range accounts {
		g.Alloc[a] = chain.GenesisAccount{Balance: chain.NewBigInt(ct.Ether(1))}
	}
	r := rand.New(rand.NewPCG(29, 2))
	clock := ct.NewClock(ct.GenesisTime)
	src := ct.NewChain(b, g, clock)
	blocks := make([]*chain.Block, b.N)
	for i := range blocks {
		txs := make([]*types.Transaction, perBlock)
		for k := range txs {
			txs[k] = ct.Transfer(g, k, uint64(i), accounts[r.IntN(len(accounts))], big.NewInt(1))
		}
		blk := ct.Mine(b, src, clock, accounts[r.IntN(len(accounts))], txs, nil)
		enc, err := blk.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		blocks[i] = new(chain.Block)
		if err := blocks[i].UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
	store, err := chain.OpenStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: ct.Engine{}, Clock: ct.NewClock(ct.GenesisTime.Add(time.Duration(b.N+1) * time.Second))})
	if err != nil {
		b.Fatal(err)
	}
	if err := chain.CompactStore(store); err != nil { // the genesis write's compaction is setup
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := processCPU(b)
	for _, blk := range blocks {
		if err := c.InsertBlock(blk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(b.N), "cpu-µs/block")
}

// BenchmarkGrindShared imports transfers among 100,000 funded addresses that
// share their first 12 bits.
func BenchmarkGrindShared(b *testing.B) { benchmarkGrind(b, true, grindSenders) }

// BenchmarkGrindRandom is the same load on random addresses.
func BenchmarkGrindRandom(b *testing.B) { benchmarkGrind(b, false, grindSenders) }

// BenchmarkGrindEmpty imports empty blocks, each paying its reward to one of
// the 100,000 random addresses: the import's cost on a large state beyond
// its transfers.
func BenchmarkGrindEmpty(b *testing.B) { benchmarkGrind(b, false, 0) }
