package main

import (
	"strings"
	"testing"

	"github.com/chaind/chaind/testnet"
)

// TestStatusColumnsFollowTheEngine: a PoS testnet's status has a finalized
// column and no miner column; a PoW one the other way round.
func TestStatusColumnsFollowTheEngine(t *testing.T) {
	fin := uint64(16)
	st := []testnet.NodeStatus{
		{Index: 0, Alive: true, Height: 20, Peers: 2, Finalized: &fin, RPC: "http://127.0.0.1:1"},
		{Index: 1, Alive: true, Height: 20, Peers: 2, Mining: true, Hashrate: 2e6, RPC: "http://127.0.0.1:2"},
		{Index: 2},
	}
	for _, c := range []struct {
		consensus, has, hasNot, row0 string
	}{
		{"pos", "FINALIZED", "MINER", "16"},
		{"pow", "MINER", "FINALIZED", "stopped"},
	} {
		var out strings.Builder
		if err := writeStatus(&out, st, c.consensus); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(out.String(), "\n")
		if !strings.Contains(lines[0], c.has) || strings.Contains(lines[0], c.hasNot) {
			t.Errorf("%s status header: %q", c.consensus, lines[0])
		}
		if f := strings.Fields(lines[1]); len(f) != 8 || f[6] != c.row0 {
			t.Errorf("%s status of node 0: %q, want %s in the seventh column", c.consensus, lines[1], c.row0)
		}
		if c.consensus == "pow" && !strings.Contains(lines[2], "2.00 MH/s") {
			t.Errorf("pow status of a mining node: %q", lines[2])
		}
	}
}

// TestStatusShowsRounds: a BFT testnet's status has a round column, the
// round and step of each node's state machine, and a node that shows none
// gets a dash.
func TestStatusShowsRounds(t *testing.T) {
	fin, round := uint64(7), int32(2)
	st := []testnet.NodeStatus{
		{Index: 0, Alive: true, Height: 7, Peers: 3, Finalized: &fin, Round: &round, Step: "prevote", RPC: "http://127.0.0.1:1"},
		{Index: 1, Alive: true, Height: 7, Peers: 3, Finalized: &fin, RPC: "http://127.0.0.1:2"},
		{Index: 2},
	}
	var out strings.Builder
	if err := writeStatus(&out, st, "bft"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if f := strings.Fields(lines[0]); len(f) != 9 || f[6] != "FINALIZED" || f[7] != "ROUND" {
		t.Fatalf("bft status header: %q", lines[0])
	}
	for i, want := range []string{"2/prevote", "-"} {
		if f := strings.Fields(lines[1+i]); len(f) != 9 || f[7] != want {
			t.Errorf("bft status of node %d: %q, want %s in the eighth column", i, lines[1+i], want)
		}
	}
}
