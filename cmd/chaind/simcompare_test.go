package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/testnet"
)

// TestSimCompare runs the comparison's timeline in the simulator on two
// link models: each run has a healthy phase, a partition in which both
// halves mine, the three crash windows, transactions, and ends on one head;
// report.md and results.json are written. The PoS variants run the same
// timeline: with finality, nothing finalized is ever reverted and finality
// stalls through the partition (neither half has 2/3 of the stake) and
// resumes; without it, nothing is finalized.
func TestSimCompare(t *testing.T) {
	dir := t.TempDir()
	out, err := runChaind(t, "sim", "compare", "--nodes", "8", "--peers", "3", "--block-time", "10s", "--duration", "20m",
		"--latency", "const:100ms", "--latency", "lognormal:100ms,0.5", "--out", dir, "--json")
	if err != nil {
		t.Fatalf("sim compare: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var cmp testnet.Comparison
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &cmp); err != nil {
		t.Fatalf("last line is not the comparison: %v\n%s", err, out)
	}
	if len(cmp.Runs) != 6 || cmp.Nodes != 8 {
		t.Fatalf("%d runs of %d nodes, want 6 (pow, pos, pos-nofinality at two link models) of 8", len(cmp.Runs), cmp.Nodes)
	}
	for _, r := range cmp.Runs {
		switch r.Variant {
		case "pos":
			if r.Report.FinalizedReverted != 0 || r.Report.Finalizations == 0 || r.FinalityStallSec < 60 || !r.Report.HeadsAgree {
				t.Errorf("pos at %.0f ms: %d finalized blocks reverted, %d finalizations, finality stalled %.0f s, heads agree %v",
					r.LatencyMs, r.Report.FinalizedReverted, r.Report.Finalizations, r.FinalityStallSec, r.Report.HeadsAgree)
			}
			continue
		case "pos-nofinality":
			if r.Report.Finalizations != 0 || r.HealthyProduced < 20 {
				t.Errorf("pos without finality at %.0f ms: %d finalizations, %d healthy blocks", r.LatencyMs, r.Report.Finalizations, r.HealthyProduced)
			}
			continue
		}
		if r.Variant != "pow" || r.HealthyProduced < 20 || r.PartitionSideBlocks[0] == 0 || r.PartitionSideBlocks[1] == 0 ||
			len(r.Crash) != 3 || !r.Report.HeadsAgree || r.Report.TxsMined == 0 || r.HealReorgDepth == 0 {
			t.Errorf("run at %.0f ms: healthy %d blocks, halves %v, %d crash windows, heads agree %v, %d txs mined, heal reorg %d",
				r.LatencyMs, r.HealthyProduced, r.PartitionSideBlocks, len(r.Crash), r.Report.HeadsAgree, r.Report.TxsMined, r.HealReorgDepth)
		}
	}
	for _, f := range []string{"results.json", "report.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	out, err = runChaind(t, "sim", "compare", "--consensus", "pos,bft", "--nodes", "4", "--duration", "1m")
	if err == nil || !strings.Contains(out, "want pow or pos") {
		t.Fatalf("--consensus bft: %v\n%s", err, out)
	}
}
