package node_test

import (
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/chaind/chaind/node"
)

// TestTakenPortsFail: a taken P2P port fails the start as a taken RPC port
// does, with the flag that chooses another, instead of moving in silence.
// It takes the default P2P port itself (or finds it taken already).
func TestTakenPortsFail(t *testing.T) {
	if ln, err := net.Listen("tcp", node.DefaultP2PAddr); err == nil {
		defer ln.Close()
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, c := range []struct {
		rpc, p2p, want string
	}{
		{"127.0.0.1:0", node.DefaultP2PAddr, "--p2p.addr chooses another"},
		{"127.0.0.1:0", taken.Addr().String(), "--p2p.addr chooses another"},
		{taken.Addr().String(), "127.0.0.1:0", "--rpc.addr chooses another"},
	} {
		n, err := node.New(node.Config{DataDir: t.TempDir(), Genesis: fastGenesis(0), RPCAddr: c.rpc, P2PAddr: c.p2p, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		err = n.Start()
		n.Close()
		if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rpc %s, p2p %s: start: %v; want the port taken and %q", c.rpc, c.p2p, err, c.want)
		}
	}
}
