package node_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/node"
)

// runMiner runs a mining node on dir until its head passes height, then
// stops it cleanly and returns the height it stopped at (a fast miner may
// pass height by a few blocks before the poll sees it).
func runMiner(t *testing.T, dir string, g *chain.Genesis, height uint64) uint64 {
	t.Helper()
	n, err := node.New(node.Config{DataDir: dir, Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: "", Mine: true, MinerThreads: 1,
		Coinbase: minerAddr, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the miner passes its height", func() bool { return n.Chain().Head().Height() >= height })
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	return n.Chain().Head().Height()
}

// TestVerifyAndRepairAfterLostLog: a data directory whose newest LevelDB
// .log was deleted after a clean stop is refused by the node and by
// chaind verify (which used to say ok), and chaind repair makes it usable
// again from the older head it still holds.
func TestVerifyAndRepairAfterLostLog(t *testing.T) {
	dir := t.TempDir()
	g := fastGenesis(0)
	first := runMiner(t, dir, g, 5)       // these blocks end up in a table file on the next start
	last := runMiner(t, dir, g, first+10) // these only in the newest .log
	logs, _ := filepath.Glob(filepath.Join(node.ChainDataDir(dir), "*.log"))
	slices.Sort(logs)
	if len(logs) == 0 {
		t.Fatal("no LevelDB log")
	}
	if err := os.Remove(logs[len(logs)-1]); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Verify(dir); !errors.Is(err, chain.ErrRolledBack) {
		t.Fatalf("verify on a database that lost its newest blocks: %v", err)
	}
	if _, err := node.New(node.Config{DataDir: dir, RPCAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)}); !errors.Is(err, chain.ErrRolledBack) {
		t.Fatalf("node start on a database that lost its newest blocks: %v", err)
	}
	head, err := node.Repair(dir)
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	if head.Height() < 5 || head.Height() >= last {
		t.Fatalf("repaired head %d, want in [5, %d)", head.Height(), last)
	}
	if h, err := node.Verify(dir); err != nil || h.Hash() != head.Hash() {
		t.Fatalf("verify after repair: %v", err)
	}
}
