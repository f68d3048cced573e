package node_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/node"
	"github.com/ethereum/go-ethereum/ethclient"
)

// TestFullDiskPausesMining: when the disk fills, a mining node stops mining
// with one storage error line, keeps answering RPC reads, and resumes mining
// by itself once space returns.
func TestFullDiskPausesMining(t *testing.T) {
	disk := new(ct.FullDisk)
	var logs ct.LogBuffer
	n := runNode(t, node.Config{
		DataDir: t.TempDir(), Genesis: fastGenesis(0), RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0", Mine: true, MinerThreads: 1,
		Coinbase: minerAddr, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Storage: chain.StoreOptions{WrapStorage: disk.Wrap},
	})
	poll.Until(t, 60*time.Second, "3 blocks are mined", func() bool { return n.Chain().Head().Height() >= 3 })

	disk.Full.Store(true)
	poll.Until(t, 60*time.Second, "the miner stops", func() bool { return !n.Miner().Mining() })
	frozen := n.Chain().Head().Height()
	ec, err := ethclient.Dial(n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	if got, err := ec.BlockNumber(context.Background()); err != nil || got != frozen {
		t.Fatalf("eth_blockNumber on a full disk: %d, %v; want %d", got, err, frozen)
	}
	if c := strings.Count(logs.String(), "Storage failed"); c != 1 {
		t.Fatalf("%d storage error lines, want 1:\n%s", c, logs.String())
	}

	disk.Full.Store(false)
	poll.Until(t, 60*time.Second, "mining resumes", func() bool { return n.Chain().Head().Height() >= frozen+2 })
	if c := strings.Count(logs.String(), "Storage failed"); c != 1 {
		t.Fatalf("%d storage error lines, want 1", c)
	}
}
