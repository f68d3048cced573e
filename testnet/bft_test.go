package testnet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/bftchain"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
)

// blockHash is node i's block at height h, or the zero hash.
func blockHash(s *Supervisor, i int, h int64) common.Hash {
	p, _ := s.proc(i)
	if p == nil || !p.Alive() {
		return common.Hash{}
	}
	var b struct {
		Hash common.Hash `json:"hash"`
	}
	if err := rpc.NewClient(p.RPCURL()).Call(context.Background(), &b, "eth_getBlockByNumber", fmt.Sprintf("0x%x", h), false); err != nil {
		return common.Hash{}
	}
	return b.Hash
}

// checkOneChain fails if two live nodes hold different blocks at a height
// both have.
func checkOneChain(t *testing.T, s *Supervisor) {
	t.Helper()
	hs := heights(s)
	for h := int64(1); h <= minOf(hs, deadNodes(hs)); h++ {
		var first common.Hash
		for i := range hs {
			if hs[i] < 0 {
				continue
			}
			got := blockHash(s, i, h)
			if first == (common.Hash{}) {
				first = got
			} else if got != first {
				t.Fatalf("height %d: node %d holds %x, another node %x", h, i, got, first)
			}
		}
	}
}

func deadNodes(hs []int64) map[int]bool {
	dead := map[int]bool{}
	for i, h := range hs {
		dead[i] = h < 0
	}
	return dead
}

// TestBFTPartitionsAndRestart: four equal BFT validators as processes.
// Split 3|1, the three commit and the one does not; healed, it catches up.
// Split 2|2, no side holds more than 2/3 of the stake: no block, no fork;
// healed, blocks resume. A validator killed and restarted on its data
// directory (write-ahead log and last-signed record) rejoins, and the
// chain stays one.
func TestBFTPartitionsAndRestart(t *testing.T) {
	s := up(t, Options{Nodes: 4, Consensus: "bft", BlockTime: 300 * time.Millisecond, Seed: 11,
		Link: LinkParams{Latency: 5 * time.Millisecond}})
	poll.Until(t, time.Minute, "every node past height 3", func() bool { return minHeight(s) >= 3 })

	if err := s.Partition([][]int{{0, 1, 2}, {3}}); err != nil {
		t.Fatal(err)
	}
	split := heights(s)
	poll.Until(t, time.Minute, "the side of three to commit 3 blocks", func() bool {
		h := heights(s)
		return h[0] >= split[0]+3 && h[1] >= split[1]+3 && h[2] >= split[2]+3
	})
	if h := heights(s)[3]; h > split[3]+1 { // a block decided as the cut came may land
		t.Fatalf("the lone validator went from %d to %d", split[3], h)
	}
	s.Heal()
	poll.Until(t, time.Minute, "the lone validator to catch up", sameHeadSoon(s))
	checkOneChain(t, s)

	if err := s.Partition([][]int{{0, 1}, {2, 3}}); err != nil {
		t.Fatal(err)
	}
	split = heights(s)
	// Several rounds' timeouts (3 s propose, 1 s prevote and precommit,
	// growing each round): a side of half the stake commits nothing.
	time.Sleep(8 * time.Second)
	halted := heights(s)
	for i := range halted {
		if halted[i] > maxOf(split)+1 {
			t.Fatalf("node %d went from %d to %d with half the stake", i, split[i], halted[i])
		}
	}
	for _, n := range s.Status(context.Background()) {
		if n.Round == nil || !slices.Contains([]string{"propose", "prevote", "precommit", "decided"}, n.Step) {
			t.Fatalf("node %d shows no round and step while halted: %+v", n.Index, n)
		}
	}
	checkOneChain(t, s)
	s.Heal()
	poll.Until(t, 2*time.Minute, "blocks to resume after the heal", func() bool { return minHeight(s) >= maxOf(halted)+2 })
	poll.Until(t, time.Minute, "the nodes to agree", sameHeadSoon(s))
	checkOneChain(t, s)

	if err := s.Kill(1); err != nil {
		t.Fatal(err)
	}
	killed := heights(s)
	if err := s.Restart(1); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, time.Minute, "the restarted validator to commit again", func() bool { return heights(s)[1] >= maxOf(killed)+2 })
	poll.Until(t, time.Minute, "the nodes to agree", sameHeadSoon(s))
	checkOneChain(t, s)
	// Every validator's machine reports a double vote it receives: none
	// came, from the restarted validator or any other.
	for i := range 4 {
		data, err := os.ReadFile(filepath.Join(s.nodeDir(i), "node.log"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), bftchain.DoubleSignLog) {
			t.Fatalf("node %d received a double vote", i)
		}
	}
}
