package main

import (
	"context"
	"encoding/hex"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
	"github.com/chaind/chaind/pow"
)

// TestNonReaderCutOnARealNode: a peer that completes the handshake with a
// mining node and then never reads, while the node sends it ten small
// blocks a second (which the kernel's socket buffers take), is cut by the
// node's default bounds (a frame not written in 10 s, or no ping answered
// for 20 s) with a log line saying so; the honest peer beside it stays
// connected and follows the chain.
func TestNonReaderCutOnARealNode(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 20 s for the ping deadline; p2p's TestNonReaderIsCutOverTCP covers it in seconds")
	}
	dir := t.TempDir()
	g, genesis := writeFastGenesis(t, dir, 1)
	miner := startChaind(t, nodeArgs(filepath.Join(dir, "miner"), genesis, mining...)...)
	follower := startChaind(t, nodeArgs(filepath.Join(dir, "follower"), genesis, "--peers", miner.p2p)...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := p2ptest.Dial(ctx, p2p.TCP{}, miner.p2p, p2ptest.Key(77), p2ptest.Hello(g, pow.New(1), new(big.Int)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	hostileID := hex.EncodeToString(p2p.NodeIDOf(p2ptest.Key(77)))
	peers := func() map[string]bool {
		var ps []struct {
			ID string `json:"id"`
		}
		miner.call(t, &ps, "admin_peers")
		ids := map[string]bool{}
		for _, p := range ps {
			ids[p.ID] = true
		}
		return ids
	}
	var followerID struct {
		ID string `json:"id"`
	}
	follower.call(t, &followerID, "admin_nodeInfo")
	poll.Until(t, 30*time.Second, "both peers to be connected", func() bool {
		ps := peers()
		return ps[hostileID] && ps[followerID.ID]
	})
	start := time.Now()
	// The hostile peer keeps sending (pings of its own), so it is not idle;
	// it reads nothing.
	poll.Until(t, 2*time.Minute, "the node to cut the peer that does not read", func() bool {
		h.Send(&p2p.Ping{Nonce: 1})
		return !peers()[hostileID]
	})
	t.Logf("the peer that does not read was cut after %v", time.Since(start).Round(100*time.Millisecond))
	if !strings.Contains(miner.stderr.String(), "does not read") {
		t.Fatalf("the node's log does not say why the peer was cut:\n%s", miner.stderr)
	}
	if !peers()[followerID.ID] {
		t.Fatal("the honest peer was cut too")
	}
	poll.Until(t, 30*time.Second, "the honest peer to follow the chain", func() bool {
		return follower.head(t).Number+2 >= miner.head(t).Number
	})
}
