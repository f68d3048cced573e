package node_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/chaind/chaind/bftchain"
	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
)

// bftValidators is the number of validators of startBFTNet.
const bftValidators = 4

// startBFTNet starts bftValidators validator nodes of one BFT chain of equal
// stakes (ct.Key(10) and on), each on its own LevelDB, connected over TCP
// on loopback; ct.Key(0) is funded.
func startBFTNet(t *testing.T) ([]*node.Node, *chain.Genesis) {
	t.Helper()
	spec := engines.Spec{Consensus: bftchain.Name, ChainID: 1337, Timestamp: uint64(time.Now().UnixMilli()),
		BlockTime: 500 * time.Millisecond, Alloc: chain.Alloc{ct.Addr(0): {Balance: chain.NewBigInt(ct.Ether(1000))}}}
	for i := range bftValidators {
		spec.Validators = append(spec.Validators, engines.Validator{Address: ct.Addr(10 + i), Stake: ct.Ether(32)})
	}
	g, err := engines.Genesis(spec)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*node.Node
	var peers []string
	for i := range bftValidators {
		n := runNode(t, node.Config{DataDir: t.TempDir(), Genesis: g, ValidatorKey: ct.Key(10 + i), RPCAddr: "127.0.0.1:0",
			P2PAddr: "127.0.0.1:0", Peers: peers, TrustLoopback: true, RPCAPIs: rpc.DevAPIs, Logger: slog.New(slog.DiscardHandler)})
		nodes = append(nodes, n)
		peers = append(peers, n.P2PAddr())
	}
	return nodes, g
}

// TestBFTValidatorsCommitTogether: four validator nodes over TCP commit the
// same blocks, each proposed with its block and committed by the precommits
// of at least three of them; a transfer sent to one is committed, and on
// every node the finalized and safe blocks are the head.
func TestBFTValidatorsCommitTogether(t *testing.T) {
	nodes, g := startBFTNet(t)
	ec, err := ethclient.Dial(nodes[2].RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	to := common.Address{0xbf, 0x74}
	rc := sendTransfer(t, ec, g, ct.Key(0), 0, to, 4444)
	want, err := nodes[2].Chain().BlockByHeight(rc.BlockNumber.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	c, err := bftchain.DecodeCommit(want.Proof)
	if err != nil || len(c.Sigs) < 3 {
		t.Fatalf("the block's commit holds %d precommits (%v), want a quorum of 3 of 4", len(c.Sigs), err)
	}
	poll.Until(t, time.Minute, "every node to hold the transfer's block", func() bool {
		for _, n := range nodes {
			if b, err := n.Chain().BlockByHeight(want.Height()); err != nil || b.Hash() != want.Hash() {
				return false
			}
		}
		return true
	})
	for i, n := range nodes {
		if got := n.Chain().Account(to).Balance; got.Int64() != 4444 {
			t.Errorf("node %d: balance %v", i, got)
		}
		nec, err := ethclient.Dial(n.RPCURL())
		if err != nil {
			t.Fatal(err)
		}
		checkFinalAtHead(t, nec)
		if _, err := nec.BlockNumber(context.Background()); err != nil {
			t.Fatal(err)
		}
		nec.Close()
	}
	// The chains agree below the lowest head: one committed chain.
	low := nodes[0].Chain().Head().Height()
	for _, n := range nodes {
		low = min(low, n.Chain().Head().Height())
	}
	for h := uint64(1); h <= low; h++ {
		b0, err := nodes[0].Chain().BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range nodes[1:] {
			if b, err := n.Chain().BlockByHeight(h); err != nil || b.Hash() != b0.Hash() {
				t.Fatalf("height %d: node %d has another block (%v)", h, i+1, err)
			}
		}
	}
}
