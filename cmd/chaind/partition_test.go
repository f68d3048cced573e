package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

type treeNode struct {
	Hash      common.Hash    `json:"hash"`
	Number    hexutil.Uint64 `json:"number"`
	Canonical bool           `json:"canonical"`
}

// TestSplitAndHeal: two miners build their own branches apart, then connect.
// Both end on the heavier branch, the loser's old branch stays visible as a
// side branch, and the transfer that only the losing branch had is mined
// again on the winning one.
func TestSplitAndHeal(t *testing.T) {
	dir := t.TempDir()
	g, genesis := writeFastGenesis(t, dir, 2)
	a := startChaind(t, nodeArgs(filepath.Join(dir, "a"), genesis, mining...)...)
	b := startChaind(t, nodeArgs(filepath.Join(dir, "b"), genesis, mining...)...)
	txA := ct.Transfer(g, 0, 0, common.Address{0xaa}, ct.Ether(1))
	txB := ct.Transfer(g, 1, 0, common.Address{0xbb}, ct.Ether(2))
	sendRaw(t, a, txA)
	sendRaw(t, b, txB)
	poll.Until(t, 30*time.Second, "both branches to grow with their own transfer", func() bool {
		return receipt(t, a, txA.Hash()) != nil && receipt(t, b, txB.Hash()) != nil && a.head(t).Number >= 8 && b.head(t).Number >= 8
	})
	if receipt(t, a, txB.Hash()) != nil || receipt(t, b, txA.Hash()) != nil {
		t.Fatal("the nodes were not apart")
	}
	headA, headB := a.head(t), b.head(t)

	a.call(t, nil, "admin_addPeer", b.p2p)
	poll.Until(t, 60*time.Second, "both transfers on both nodes after the heal", func() bool {
		for _, n := range []*proc{a, b} {
			for _, h := range []common.Hash{txA.Hash(), txB.Hash()} {
				if receipt(t, n, h) == nil {
					return false
				}
			}
		}
		return true
	})
	// Stopping both miners at once could leave a tie (two blocks of equal
	// weight, each node keeping its own); b stops first and follows a.
	b.call(t, nil, "chaind_minerStop")
	sameHead(t, 30*time.Second, a, b)
	a.call(t, nil, "chaind_minerStop")
	final := sameHead(t, 30*time.Second, a, b)

	// The loser is the node whose old head is no longer canonical.
	loser, lostHead := b, headB
	if isCanonical(t, a, headA) == false {
		loser, lostHead = a, headA
	}
	if isCanonical(t, loser, lostHead) {
		t.Fatal("neither branch was abandoned")
	}
	var tree []treeNode
	loser.call(t, &tree, "chaind_blockTree", hexutil.Uint64(1), final.Number)
	sideSeen, canonAt := false, map[uint64]int{}
	for _, n := range tree {
		if n.Hash == lostHead.Hash && !n.Canonical {
			sideSeen = true
		}
		if n.Canonical {
			canonAt[uint64(n.Number)]++
		}
	}
	if !sideSeen {
		t.Fatalf("the abandoned head %s is not a side branch in chaind_blockTree", lostHead.Hash.Hex())
	}
	for h, n := range canonAt {
		if n != 1 {
			t.Fatalf("%d canonical blocks at height %d", n, h)
		}
	}
	var bal hexutil.Big
	a.call(t, &bal, "eth_getBalance", common.Address{0xbb}, "latest")
	if bal.ToInt().Cmp(ct.Ether(2)) != 0 {
		t.Fatalf("recipient of the re-mined transfer has %v", bal.ToInt())
	}
}

func isCanonical(t *testing.T, p *proc, h headInfo) bool {
	t.Helper()
	var b struct {
		Hash common.Hash `json:"hash"`
	}
	p.call(t, &b, "eth_getBlockByNumber", h.Number, false)
	return b.Hash == h.Hash
}

// TestOtherGenesisRefused: a node of another chain is refused at the
// handshake, and both sides log why.
func TestOtherGenesisRefused(t *testing.T) {
	dir := t.TempDir()
	_, genesisA := writeFastGenesis(t, filepath.Join(dir), 1)
	otherDir := filepath.Join(dir, "other")
	if err := os.MkdirAll(otherDir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, genesisB := writeFastGenesis(t, otherDir, 2) // same chain id, other allocations
	a := startChaind(t, nodeArgs(filepath.Join(dir, "a"), genesisA)...)
	b := startChaind(t, nodeArgs(filepath.Join(dir, "b"), genesisB, "--peers", a.p2p)...)
	poll.Until(t, 20*time.Second, "both sides to log the genesis mismatch", func() bool {
		return strings.Contains(a.stderr.String(), `reason="genesis `) && strings.Contains(b.stderr.String(), `reason="genesis `)
	})
	for _, n := range []*proc{a, b} {
		var peers hexutil.Uint
		n.call(t, &peers, "net_peerCount")
		if peers != 0 {
			t.Fatalf("%d peers across different chains", peers)
		}
	}
}
