package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestDevChainRestartsAtPace stops a dev chain for 60 s and restarts it:
// the first 15 s after the restart must not hold more than 3 times the
// target number of blocks (45 at 1 s). Under the old genesis-anchored rule
// the chain owed 60 blocks and minted them in a burst. It takes two
// minutes: go test -run RestartsAtPace ./cmd/chaind -soak.
func TestDevChainRestartsAtPace(t *testing.T) {
	if !*soak {
		t.Skip("takes two minutes; run with -soak")
	}
	datadir := filepath.Join(t.TempDir(), "dev")
	args := []string{"node", "--dev", "--datadir", datadir, "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "", "--log.level", "warn"}
	ctx := context.Background()
	height := func(p *proc) uint64 {
		var n hexutil.Uint64
		if err := p.client().Call(ctx, &n, "eth_blockNumber"); err != nil {
			t.Fatal(err)
		}
		return uint64(n)
	}
	p := startChaind(t, args...)
	for deadline := time.Now().Add(2 * time.Minute); height(p) < 15; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dev chain did not reach 15 blocks in 2 minutes")
		}
	}
	p.kill()
	before := time.Now()
	time.Sleep(60 * time.Second)
	p = startChaind(t, args...)
	restart := time.Now()
	stopped := restart.Sub(before)
	time.Sleep(16 * time.Second)
	var count int
	for h := height(p); h > 0; h-- {
		var b struct {
			TimestampMs hexutil.Uint64 `json:"timestampMs"`
		}
		if err := p.client().Call(ctx, &b, "eth_getBlockByNumber", hexutil.Uint64(h), false); err != nil {
			t.Fatal(err)
		}
		at := time.UnixMilli(int64(b.TimestampMs))
		if at.Before(restart) {
			break
		}
		if at.Before(restart.Add(15 * time.Second)) {
			count++
		}
	}
	t.Logf("stopped for %v; %d blocks in the first 15 s after the restart (target 15, at most 45)", stopped.Round(time.Second), count)
	if count > 45 {
		t.Fatalf("%d blocks in the 15 s after a 60 s stall: a burst", count)
	}
	if count == 0 {
		t.Fatal("no blocks after the restart")
	}
}
