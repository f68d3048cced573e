package main

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/loadgen"
)

var soak = flag.Bool("soak", false, "run the long memory test (minutes)")

// TestMemoryAfter100kBlocks: a node that mined 100,000 blocks, and a node
// that synced them from it, each stay under 100 MB of resident memory:
// bodies live on disk. It takes minutes: go test -run Memory ./cmd/chaind -soak.
func TestMemoryAfter100kBlocks(t *testing.T) {
	if !*soak {
		t.Skip("takes minutes; run with -soak")
	}
	const blocks = 100_000
	dir := t.TempDir()
	genesis := writeInstantGenesis(t, dir)
	a := startChaind(t, nodeArgs(filepath.Join(dir, "a"), genesis, mining...)...)
	waitFor(t, 30*time.Minute, "100,000 mined blocks", func() bool { return a.head(t).Number >= blocks })
	a.stopMining(t)
	want := a.head(t)
	start := time.Now()
	b := startChaind(t, nodeArgs(filepath.Join(dir, "b"), genesis, "--peers", a.p2p)...)
	waitFor(t, 30*time.Minute, "the sync of 100,000 blocks", func() bool { return b.head(t).Hash == want.Hash })
	syncSecs := time.Since(start).Seconds()
	rssA, errA := loadgen.PeakRSS(a.cmd.Process.Pid)
	rssB, errB := loadgen.PeakRSS(b.cmd.Process.Pid)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	t.Logf("miner: %d blocks, peak RSS %.1f MiB; syncing node: %.0f s (%.0f blocks/s), peak RSS %.1f MiB",
		want.Number, rssA, syncSecs, float64(want.Number)/syncSecs, rssB)
	if rssA > 100 || rssB > 100 {
		t.Fatalf("peak RSS above 100 MiB: miner %.1f, syncing node %.1f", rssA, rssB)
	}
}
