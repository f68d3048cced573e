package node_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/linkmodel"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/rpc"
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

// TestLinkFaultsOverRPC: a node started with LinkFaults serves link_set and
// link_list; cutting the link to its peer over RPC drops the peer on both
// sides and keeps it out, and resetting the link lets the static peer back
// in. Links given at start are there from the start. A node without
// LinkFaults refuses link_set.
func TestLinkFaultsOverRPC(t *testing.T) {
	g := fastGenesis(0)
	net := memnet.New(nil, 1)
	slow := map[string]linkmodel.Params{"10.0.0.3": {Latency: 5 * time.Millisecond}} // a peer that never comes
	start := func(ip string, faults bool, peers []string) *node.Node {
		return runNode(t, node.Config{
			DataDir: t.TempDir(), Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: ip + ":30303", P2PTransport: net.Host(ip),
			Peers: peers, LinkFaults: faults, Links: slow, RPCAPIs: append(slices.Clone(rpc.DefaultAPIs), "link"), Logger: slog.New(slog.DiscardHandler),
		})
	}
	a := start("10.0.0.1", true, nil)
	b := start("10.0.0.2", false, []string{"10.0.0.1:30303"})
	both := func(n int) func() bool {
		return func() bool { return a.P2PPeerCount() == n && b.P2PPeerCount() == n }
	}
	poll.Until(t, time.Minute, "the nodes to connect", both(1))
	ctx := context.Background()
	c := rpc.NewClient(a.RPCURL())
	if err := c.Call(ctx, nil, "link_set", "10.0.0.2", linkmodel.Params{Cut: true}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, time.Minute, "the cut to drop the peer", both(0))
	var links map[string]linkmodel.Params
	if err := c.Call(ctx, &links, "link_list"); err != nil || !links["10.0.0.2"].Cut || links["10.0.0.3"] != slow["10.0.0.3"] {
		t.Fatalf("link_list: %v, %v; want 10.0.0.2 cut and 10.0.0.3 as the node started with", links, err)
	}
	if err := c.Call(ctx, nil, "link_set", "10.0.0.2", linkmodel.Params{}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, time.Minute, "the static peer to come back after the reset", both(1))
	if err := rpc.NewClient(b.RPCURL()).Call(ctx, nil, "link_set", "10.0.0.1", linkmodel.Params{Cut: true}); err == nil || !strings.Contains(err.Error(), "--p2p.linkfaults") {
		t.Fatalf("link_set on a node without link faults: %v", err)
	}
}
