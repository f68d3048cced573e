package main

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/loadgen"
)

var (
	soak       = flag.Bool("soak", false, "run the long memory test (minutes)")
	soakBlocks = flag.Uint64("soak.blocks", 100_000, "blocks the memory soak mines and syncs")
)

// TestMemoryAfter100kBlocks: a node that mined 100,000 blocks, and a node
// that synced them from it, each stay under 100 MB of resident memory:
// bodies live on disk. It takes minutes: go test -run Memory ./cmd/chaind -soak
// (-soak.blocks N for another length; the bound stays 100 MB up to 100,000
// blocks and is 150 MB beyond).
func TestMemoryAfter100kBlocks(t *testing.T) {
	if !*soak {
		t.Skip("takes minutes; run with -soak")
	}
	blocks := *soakBlocks
	wait := time.Duration(blocks/100_000+1) * 30 * time.Minute
	dir := t.TempDir()
	genesis := writeInstantGenesis(t, dir)
	a := startChaind(t, nodeArgs(filepath.Join(dir, "a"), genesis, mining...)...)
	poll.Until(t, wait, "the mined blocks", func() bool { return uint64(a.head(t).Number) >= blocks })
	a.stopMining(t)
	want := a.head(t)
	start := time.Now()
	b := startChaind(t, nodeArgs(filepath.Join(dir, "b"), genesis, "--peers", a.p2p)...)
	poll.Until(t, wait, "the sync", func() bool { return b.head(t).Hash == want.Hash })
	syncSecs := time.Since(start).Seconds()
	rssA, errA := loadgen.PeakRSS(a.cmd.Process.Pid)
	rssB, errB := loadgen.PeakRSS(b.cmd.Process.Pid)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	t.Logf("miner: %d blocks, peak RSS %.1f MiB; syncing node: %.0f s (%.0f blocks/s), peak RSS %.1f MiB",
		want.Number, rssA, syncSecs, float64(want.Number)/syncSecs, rssB)
	bound := 100.0
	if blocks > 100_000 {
		bound = 150
	}
	if rssA > bound || rssB > bound {
		t.Fatalf("peak RSS above %.0f MiB: miner %.1f, syncing node %.1f", bound, rssA, rssB)
	}
}
