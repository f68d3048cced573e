package netsim

import (
	"context"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/testnet"
)

// hops is the number of links from node 0 to every node of adj.
func hops(adj [][]int) []int {
	dist := make([]int, len(adj))
	for i := range dist {
		dist[i] = -1
	}
	dist[0] = 0
	for queue := []int{0}; len(queue) > 0; queue = queue[1:] {
		for _, p := range adj[queue[0]] {
			if dist[p] < 0 {
				dist[p] = dist[queue[0]] + 1
				queue = append(queue, p)
			}
		}
	}
	return dist
}

// TestAnnounceCostsOneRoundTripPerHop: with a constant latency L and only
// node 0 mining, a block reaches a node k links away after k(L + p) - p with
// push (p: the time a node takes to check a block before it relays it) and
// after k(3L + p) - p with announce-and-request: each hop adds the request's
// round trip, 2L. Exact on the simulated clock, for every node and block.
func TestAnnounceCostsOneRoundTripPerHop(t *testing.T) {
	const latency, processing = 100 * time.Millisecond, 2 * time.Millisecond
	shares := make([]float64, 12)
	shares[0] = 1
	for _, relay := range []Relay{RelayPush, RelayAnnounce} {
		cfg := Config{Nodes: 12, Peers: 3, BlockTime: 10 * time.Second, Blocks: 20, HashPower: shares,
			Network: mustNetwork(t, "const:"+latency.String()), Processing: processing, Relay: relay, Seed: 4}
		s, err := newSim(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var adj [][]int
		for _, n := range s.nodes {
			adj = append(adj, n.peers)
		}
		s.close()
		dist := hops(adj)
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		perHop := latency
		if relay == RelayAnnounce {
			perHop = 3 * latency
		}
		checked := 0
		for _, b := range res.Records.Blocks {
			if b.Height == 0 {
				continue
			}
			found := b.SeenMs[0]
			for id, at := range b.SeenMs {
				k := time.Duration(dist[id])
				want := k*(perHop+processing) - min(k, 1)*processing
				if got := time.Duration(at-found) * time.Millisecond; got != want {
					t.Fatalf("%v: block %d reached node %d (%d hops) after %v, want %v", relay, b.Height, id, dist[id], got, want)
				}
				checked++
			}
		}
		if want := res.Report.Produced * 12; checked != want {
			t.Fatalf("%v: %d arrivals checked, want %d (every block at every node)", relay, checked, want)
		}
		if res.Report.Stale != 0 {
			t.Fatalf("%v: %d stale blocks with a single miner", relay, res.Report.Stale)
		}
	}
}

// TestAnnounceRecoversFromACutLink: under a partition, requests that cannot
// cross are retried elsewhere, and after the heal every node ends on one
// head with every block.
func TestAnnounceRecoversFromACutLink(t *testing.T) {
	res, err := Run(context.Background(), Config{Nodes: 10, Peers: 3, BlockTime: 5 * time.Second, Duration: 20 * time.Minute,
		Network: mustNetwork(t, "lognormal:150ms,0.5"), Relay: RelayAnnounce, Seed: 9, Steps: partitionSteps()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.HeadsAgree {
		t.Fatal("nodes disagree after the heal")
	}
	for _, b := range res.Records.Blocks {
		if b.Height > 0 && len(b.SeenMs) != 10 {
			t.Fatalf("block %d reached %d of 10 nodes", b.Height, len(b.SeenMs))
		}
	}
}

// partitionSteps splits ten nodes 5|5 for seven minutes, then crashes
// and restarts one.
func partitionSteps() []testnet.Step {
	return []testnet.Step{
		{At: chain.Duration(5 * time.Minute), Do: "partition", Groups: [][]int{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}}},
		{At: chain.Duration(12 * time.Minute), Do: "heal"},
		{At: chain.Duration(14 * time.Minute), Do: "kill", Node: 3},
		{At: chain.Duration(16 * time.Minute), Do: "restart", Node: 3},
	}
}

func TestParseRelay(t *testing.T) {
	for _, s := range []string{"push", "announce"} {
		r, err := ParseRelay(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRelay(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseRelay("flood"); err == nil {
		t.Error("ParseRelay accepted flood")
	}
}
