package node_test

import (
	"context"
	"log/slog"
	"math/big"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/pow"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

func quietNode(b *testing.B, g *chain.Genesis, cfg node.Config) *node.Node {
	b.Helper()
	cfg.DataDir, cfg.Genesis, cfg.RPCAddr, cfg.P2PAddr = b.TempDir(), g, "127.0.0.1:0", "127.0.0.1:0"
	cfg.Logger = slog.New(slog.DiscardHandler)
	n, err := node.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close() })
	return n
}

// BenchmarkSync1000TxBlocks measures how fast a fresh node syncs blocks of
// 1,000 transfers from one peer over loopback TCP: headers, bodies, sender
// recovery, execution and one synced LevelDB write per block.
func BenchmarkSync1000TxBlocks(b *testing.B) {
	const perBlock = 1000
	g := &chain.Genesis{ChainID: 1337, Consensus: chain.ConsensusPoW, BlockTime: chain.Duration(time.Millisecond),
		Engine: &pow.GenesisConfig{Difficulty: chain.NewBigInt(big.NewInt(1))}, Timestamp: uint64(time.Now().UnixMilli()), Alloc: chain.Alloc{}}
	for i := 0; i < perBlock; i++ {
		g.Alloc[ct.Addr(i)] = chain.GenesisAccount{Balance: chain.NewBigInt(ct.Ether(1000))}
	}
	g.FillDefaults()
	src := quietNode(b, g, node.Config{})
	c := src.Chain()
	for i := 0; i < b.N; i++ {
		txs := make([]*types.Transaction, perBlock)
		for k := range txs {
			txs[k] = ct.Transfer(g, k, uint64(i), common.Address{byte(k), byte(k >> 8), 0xee}, big.NewInt(1))
		}
		blk, err := c.BuildBlock(common.Address{0xc0}, txs)
		if err != nil || len(blk.Txs) != perBlock {
			b.Fatalf("build block %d: %v", i, err)
		}
		sealed, err := c.Engine().Seal(context.Background(), c, blk)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.InsertBlock(sealed); err != nil {
			b.Fatal(err)
		}
	}
	if err := src.Start(); err != nil {
		b.Fatal(err)
	}
	want := c.Head().Hash()
	b.ResetTimer()
	dst := quietNode(b, g, node.Config{Peers: []string{src.P2PAddr()}})
	if err := dst.Start(); err != nil {
		b.Fatal(err)
	}
	for dst.Chain().Head().Hash() != want {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "blocks/s")
	b.ReportMetric(float64(b.N*perBlock)/secs, "tx/s")
}

// BenchmarkPropagation5Nodes measures how long a mined block takes to reach
// every node of a line of five (four hops) over loopback TCP.
func BenchmarkPropagation5Nodes(b *testing.B) {
	g := &chain.Genesis{ChainID: 1337, Consensus: chain.ConsensusPoW, BlockTime: chain.Duration(50 * time.Millisecond),
		Engine:    &pow.GenesisConfig{HalfLife: chain.Duration(500 * time.Millisecond), Difficulty: chain.NewBigInt(big.NewInt(50_000))},
		Timestamp: uint64(time.Now().UnixMilli())}
	g.FillDefaults()
	var (
		mu   sync.Mutex
		seen = map[common.Hash][]time.Time{}
	)
	nodes := make([]*node.Node, 5)
	for i := range nodes {
		cfg := node.Config{MinerThreads: 1, Coinbase: common.Address{0xc0}}
		if i > 0 {
			cfg.Peers = []string{nodes[i-1].P2PAddr()}
			cfg.NoDiscover = true
		}
		nodes[i] = quietNode(b, g, cfg)
		nodes[i].Chain().Subscribe(func(ev chain.HeadEvent) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, blk := range ev.Added {
				seen[blk.Hash()] = append(seen[blk.Hash()], now)
			}
		})
		if err := nodes[i].Start(); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range nodes[1:] { // wait for the line to form
		for n.P2PPeerCount() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.ResetTimer()
	nodes[0].Miner().Start()
	for nodes[0].Chain().Head().Height() < uint64(b.N) {
		time.Sleep(5 * time.Millisecond)
	}
	nodes[0].Miner().Stop()
	time.Sleep(500 * time.Millisecond)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	var delays []time.Duration
	for _, times := range seen {
		if len(times) != len(nodes) {
			continue // still travelling, or replaced by a reorg
		}
		first, last := times[0], times[0]
		for _, t := range times {
			first, last = minTime(first, t), maxTime(last, t)
		}
		delays = append(delays, last.Sub(first))
	}
	if len(delays) == 0 {
		b.Fatal("no block reached all five nodes")
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(delays[len(delays)-1].Microseconds())/1000, "max-ms")
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
