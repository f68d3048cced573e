package node_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaind/chaind/node"
)

// TestNodeKeyPersists: the node key is created once in the data directory,
// readable by its owner only, and gives the same node id after a restart.
func TestNodeKeyPersists(t *testing.T) {
	dir, g := t.TempDir(), fastGenesis(0)
	open := func() string {
		n, err := node.New(node.Config{DataDir: dir, Genesis: g, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		return n.P2PNodeID()
	}
	first := open()
	info, err := os.Stat(filepath.Join(dir, node.NodeKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("node key mode %v, want 0600", info.Mode().Perm())
	}
	if again := open(); again != first || len(first) != 66 {
		t.Fatalf("node id %s after a restart, was %s", again, first)
	}
}
