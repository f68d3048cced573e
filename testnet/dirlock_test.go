package testnet

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
)

// TestResumeRecordsOnlyTheNewRun: a directory that holds a stopped testnet
// is refused without Resume or Force; resumed, the chain goes on but the
// records (and so the report) hold only the blocks of the new run, timed
// against the new run's duration.
func TestResumeRecordsOnlyTheNewRun(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Nodes: 2, BlockTime: 300 * time.Millisecond}
	s := up(t, opts)
	poll.Until(t, 60*time.Second, "both nodes past height 4", func() bool { return minHeight(s) >= 4 })
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	first, err := LoadRecords(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var top uint64
	for _, b := range first.Blocks {
		top = max(top, b.Height)
	}

	again := opts
	again.Binary, again.Logger = chaindBin, quiet()
	if _, err := Up(again); !errors.Is(err, ErrHoldsTestnet) {
		t.Fatalf("Up on a stopped testnet: %v, want ErrHoldsTestnet", err)
	}
	opts.Resume = true
	s = up(t, opts)
	poll.Until(t, 60*time.Second, "both nodes 3 blocks past the first run", func() bool { return minHeight(s) >= int64(top)+3 })
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	second, err := LoadRecords(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for h, b := range second.Blocks {
		if first.Blocks[h] != nil {
			t.Errorf("the resumed run's records hold block %d (%x) of the first run", b.Height, h[:4])
		}
	}
	rep := Compute(second)
	if rep.Produced < 3 || rep.Produced > len(second.Blocks) {
		t.Fatalf("resumed run: %d blocks produced of %d recorded", rep.Produced, len(second.Blocks))
	}
}

// TestForceClearsOnlyTheRun: starting over removes what a run wrote and
// leaves everything else in the directory.
func TestForceClearsOnlyTheRun(t *testing.T) {
	dir := t.TempDir()
	run := []string{"genesis.json", "funded.key", "password.txt", "testnet.json", "records.json", "records.json.gz", "report.md", "report.json", "dashboard.html", "heads.svg", "blocktree-node0.svg", "node0/chaindata/x", "node12/node.log", "prometheus/prometheus.yml"}
	keep := []string{"notes.txt", "supervisor.log", lockFile, "nodes/x", "mine/genesis.json"}
	for _, f := range append(append([]string(nil), run...), keep...) {
		path := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := clearTestnet(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range run {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s survived", f)
		}
	}
	for _, f := range keep {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
}
