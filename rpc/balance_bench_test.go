package rpc_test

import (
	"context"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// BenchmarkGetBalanceOldHeight reads a busy account's balance (a sender in
// every block) with eth_getBalance over loopback HTTP, at "latest" and at
// block 1, in turns, from a node's chain on disk (LevelDB with its node
// cache) of 200 blocks of 100 transfers each, and reports each read's time
// and their ratio: what a client pays for a balance at an old height.
func BenchmarkGetBalanceOldHeight(b *testing.B) {
	const blocks, perBlock = 200, 100
	g := ct.Genesis(perBlock)
	clk := ct.NewClock(ct.GenesisTime)
	c := ct.NewChainOnDisk(b, g, clk)
	for i := range blocks {
		txs := make([]*types.Transaction, perBlock)
		for k := range txs {
			txs[k] = ct.Transfer(g, k, uint64(i), common.Address{byte(k), byte(i), 0xee}, big.NewInt(1))
		}
		ct.Mine(b, c, clk, common.Address{0xc0}, txs, nil)
	}
	pool := mempool.New(mempool.Config{Chain: c})
	srv, err := rpc.New(rpc.Config{Chain: c, Pool: pool, Version: "bench", APIs: rpc.DevAPIs,
		Server: rpc.ServerConfig{Logger: slog.New(slog.DiscardHandler), Clock: clock.NewSim(time.Unix(1_700_000_000, 0))}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer func() {
		srv.Close()
		hs.Close()
	}()
	cli := rpc.NewClient(hs.URL)
	busy := ct.Addr(0)
	var took [2]time.Duration // latest, block 1
	for b.Loop() {
		for i, ref := range []string{"latest", "0x1"} {
			var bal hexutil.Big
			t0 := time.Now()
			if err := cli.Call(context.Background(), &bal, "eth_getBalance", busy, ref); err != nil {
				b.Fatal(err)
			}
			took[i] += time.Since(t0)
		}
	}
	b.ReportMetric(float64(took[0].Nanoseconds())/float64(b.N), "ns-latest")
	b.ReportMetric(float64(took[1].Nanoseconds())/float64(b.N), "ns-height1")
	b.ReportMetric(float64(took[1])/float64(took[0]), "height1/latest")
}
