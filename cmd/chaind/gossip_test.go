package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

const testCoinbase = "0x00000000000000000000000000000000000000c0"

// nodeArgs is a node on datadir with loopback ports chosen by the OS, and
// the control methods (admin_, miner start/stop) the tests drive it with.
func nodeArgs(datadir, genesis string, extra ...string) []string {
	args := []string{"node", "--datadir", datadir, "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "127.0.0.1:0", "--rpc.api", "eth,net,web3,txpool,chaind,admin,miner"}
	if genesis != "" {
		args = append(args, "--genesis", genesis)
	}
	return append(args, extra...)
}

var mining = []string{"--mine", "--miner.threads", "1", "--miner.coinbase", testCoinbase}

type headInfo struct {
	Number    hexutil.Uint64 `json:"number"`
	Hash      common.Hash    `json:"hash"`
	StateRoot common.Hash    `json:"stateRoot"`
}

func (p *proc) call(t *testing.T, result any, method string, params ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.client().Call(ctx, result, method, params...); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

func (p *proc) head(t *testing.T) headInfo {
	t.Helper()
	var h headInfo
	p.call(t, &h, "chaind_head")
	return h
}

// sameHead waits until every node reports the same head and state root.
func sameHead(t *testing.T, timeout time.Duration, nodes ...*proc) headInfo {
	t.Helper()
	var h headInfo
	poll.Until(t, timeout, "nodes to agree on the head", func() bool {
		h = nodes[0].head(t)
		for _, n := range nodes[1:] {
			if o := n.head(t); o.Hash != h.Hash || o.StateRoot != h.StateRoot {
				return false
			}
		}
		return true
	})
	return h
}

func sendRaw(t *testing.T, p *proc, tx *types.Transaction) {
	t.Helper()
	raw, _ := tx.MarshalBinary()
	var hash common.Hash
	p.call(t, &hash, "eth_sendRawTransaction", hexutil.Bytes(raw))
}

func receipt(t *testing.T, p *proc, hash common.Hash) map[string]any {
	t.Helper()
	var r map[string]any
	p.call(t, &r, "eth_getTransactionReceipt", hash)
	return r
}

// TestThreeNodesOneMiner: a miner and two followers reach the same head, and
// a transfer sent to a follower is mined and visible on all three.
func TestThreeNodesOneMiner(t *testing.T) {
	dir := t.TempDir()
	g, genesis := writeFastGenesis(t, dir, 1)
	miner := startChaind(t, nodeArgs(filepath.Join(dir, "a"), genesis, mining...)...)
	b := startChaind(t, nodeArgs(filepath.Join(dir, "b"), genesis, "--peers", miner.p2p)...)
	// Three nodes on one machine: without --p2p.trustloopback, c would dial
	// one discovered address per network group, and loopback is one group.
	c := startChaind(t, nodeArgs(filepath.Join(dir, "c"), genesis, "--bootnodes", b.p2p, "--p2p.trustloopback")...)
	poll.Until(t, 20*time.Second, "c to find the miner through b", func() bool {
		var n hexutil.Uint
		c.call(t, &n, "net_peerCount")
		return n >= 2
	})
	tx := ct.Transfer(g, 0, 0, common.Address{0xfe}, ct.Ether(1))
	sendRaw(t, c, tx)
	poll.Until(t, 30*time.Second, "the transfer's receipt on all three nodes", func() bool {
		for _, n := range []*proc{miner, b, c} {
			if receipt(t, n, tx.Hash()) == nil {
				return false
			}
		}
		return true
	})
	sameHead(t, 20*time.Second, miner, b, c)
	var peers []map[string]any
	b.call(t, &peers, "admin_peers")
	if len(peers) < 2 || peers[0]["head"] == nil {
		t.Fatalf("admin_peers: %v", peers)
	}
}

// TestLateJoinSyncs: a fresh node syncs 2,000 blocks from a peer, ends with
// the same head and state root, and reports progress while it syncs.
func TestLateJoinSyncs(t *testing.T) {
	dir := t.TempDir()
	genesis := writeInstantGenesis(t, dir)
	const target = 2000
	a := startChaind(t, nodeArgs(filepath.Join(dir, "a"), genesis, mining...)...)
	poll.Until(t, 3*time.Minute, "the first node to mine 2,000 blocks", func() bool { return a.head(t).Number >= target })
	a.stopMining(t)
	want := a.head(t)
	b := startChaind(t, nodeArgs(filepath.Join(dir, "b"), genesis, "--peers", a.p2p)...)
	sawSyncing := false
	poll.Until(t, 2*time.Minute, "the late node to sync", func() bool {
		var s json.RawMessage
		b.call(t, &s, "eth_syncing")
		if string(s) != "false" {
			sawSyncing = true
		}
		return b.head(t).Hash == want.Hash
	})
	if got := b.head(t); got.StateRoot != want.StateRoot || got.Number != want.Number {
		t.Fatalf("synced head %+v, want %+v", got, want)
	}
	if !strings.Contains(b.stderr.String(), "msg=Syncing") || !strings.Contains(b.stderr.String(), "target=") {
		t.Fatalf("no progress lines in the log:\n%s", b.stderr)
	}
	t.Logf("synced %d blocks; eth_syncing seen reporting progress: %v", want.Number, sawSyncing)
}

// stopMining stops p's miner and waits until its head holds still (a block
// sealed just before the stop may still land).
func (p *proc) stopMining(t *testing.T) {
	t.Helper()
	p.call(t, nil, "chaind_minerStop")
	prev := p.head(t)
	for {
		time.Sleep(200 * time.Millisecond)
		h := p.head(t)
		if h == prev {
			return
		}
		prev = h
	}
}
