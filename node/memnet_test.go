package node_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p/memnet"
)

// TestNodesOverMemnet: two nodes in one process, joined by the in-memory
// network with 20 ms links instead of TCP, agree on the chain the first one
// mines.
func TestNodesOverMemnet(t *testing.T) {
	g := fastGenesis(0)
	net := memnet.New(nil, 1)
	net.SetLink("10.0.0.1", "10.0.0.2", memnet.Link{Latency: 20 * time.Millisecond})
	net.SetLink("10.0.0.2", "10.0.0.1", memnet.Link{Latency: 20 * time.Millisecond})
	start := func(ip string, mine bool, peers []string) *node.Node {
		return runNode(t, node.Config{
			DataDir: t.TempDir(), Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: ip + ":30303", P2PTransport: net.Host(ip),
			Peers: peers, Mine: mine, MinerThreads: 1, Coinbase: minerAddr, Logger: slog.New(slog.DiscardHandler),
		})
	}
	miner := start("10.0.0.1", true, nil)
	follower := start("10.0.0.2", false, []string{"10.0.0.1:30303"})
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h := miner.Chain().Head()
		if h.Height() >= 5 && follower.Chain().GetHeader(h.Hash()) != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follower at %d, miner at %d", follower.Chain().Head().Height(), h.Height())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
