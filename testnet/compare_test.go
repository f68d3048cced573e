package testnet

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCompareQuick runs `chaind testnet compare --quick` (about two minutes):
// PoW, PoS with finality and PoS without it, under the same partition and
// crashes. Proof of stake with finality never reverts a finalized block;
// proof of work reorganises more than one block deep under the partition.
func TestCompareQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("about two minutes")
	}
	out := t.TempDir()
	start := time.Now()
	cmp, err := Compare(CompareOptions{Out: out, Quick: true, Binary: chaindBin, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compare --quick took %v", time.Since(start).Round(time.Second))
	if len(cmp.Runs) != len(Variants) {
		t.Fatalf("%d runs", len(cmp.Runs))
	}
	for _, r := range cmp.Runs {
		switch r.Variant {
		case "pos":
			if r.Report.FinalizedReverted != 0 {
				t.Fatalf("PoS with finality reverted %d finalized blocks", r.Report.FinalizedReverted)
			}
			if r.Report.Finalizations == 0 {
				t.Fatal("PoS with finality finalized nothing")
			}
		case "pow":
			if r.HealReorgDepth < 2 {
				t.Fatalf("PoW: the heal reorganised only %d blocks", r.HealReorgDepth)
			}
		}
		if r.Report.Produced == 0 || len(r.Crash) != 3 {
			t.Fatalf("%s: %d blocks, %d crash windows", r.Variant, r.Report.Produced, len(r.Crash))
		}
	}
	for _, f := range []string{"results.json", "report.md", "reversal.svg", "stale.svg"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
}
