package testnet

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestPoSWindowsCountBySlot: blocks that arrive in a bunch (here all ten
// seen at the same moment, as after a partition heals) are still placed in
// their slots, so no window counts more blocks per second than there are
// slots.
func TestPoSWindowsCountBySlot(t *testing.T) {
	r := &Records{Nodes: 1, Consensus: "pos", BlockTimeMs: 500, Blocks: map[common.Hash]*BlockRec{}}
	canon := map[common.Hash]bool{}
	for i := range 10 {
		h := common.Hash{byte(i + 1)}
		r.Blocks[h] = &BlockRec{Hash: h, Height: uint64(i + 1), TimeMs: 10_000 + int64(i)*500, SeenMs: map[int]int64{0: 16_000}}
		canon[h] = true
	}
	whole := phaseStats(r, canon, "all", 10_000, 15_000)
	if whole.BlocksPerSec != 2 || whole.SlotsFilled == nil || whole.SlotsFilled.K != 10 || whole.SlotsFilled.N != 10 {
		t.Fatalf("ten slots, ten blocks: %+v", whole)
	}
	if whole.BlocksPerSecCI.Lo >= 2 || whole.BlocksPerSecCI.Hi <= 2 {
		t.Fatalf("interval %+v does not hold the rate", whole.BlocksPerSecCI)
	}
	late := phaseStats(r, canon, "arrival", 15_500, 16_500) // where first sight would put them all
	if late.BlocksPerSec != 0 || late.SlotsFilled.N != 2 || late.SlotsFilled.K != 0 {
		t.Fatalf("a window after the slots counted blocks: %+v", late)
	}
}

// TestRevertedAtDepthCounts replays one node's head changes: A and B on
// top of genesis, then a reorg replaces B by C. A, B and C reached depth 1,
// A depth 2, and B was reverted: 1 of 3 at depth 1, 0 of 1 at depth 2.
func TestRevertedAtDepthCounts(t *testing.T) {
	a, b, c := common.Hash{0xa}, common.Hash{0xb}, common.Hash{0xc}
	r := &Records{Nodes: 1, Events: []EventRec{
		{Node: 0, TimeMs: 1, Height: 1, Added: []common.Hash{a}},
		{Node: 0, TimeMs: 2, Height: 2, Added: []common.Hash{b}},
		{Node: 0, TimeMs: 3, Height: 2, Removed: []common.Hash{b}, Added: []common.Hash{c}},
	}}
	ps := revertedAtDepth(r, 3, 10)
	if ps[0].K != 1 || ps[0].N != 3 || ps[1].K != 0 || ps[1].N != 1 || ps[2].N != 0 {
		t.Fatalf("got %+v", ps)
	}
	if ps[0].Lo <= 0 || ps[0].Hi >= 1 || ps[1].Lo != 0 || ps[2].Hi != 1 {
		t.Fatalf("intervals %+v", ps)
	}
}

// TestCompressedRecordsReload: a run kept as records.json.gz alone loads
// and gives the same report.
func TestCompressedRecordsReload(t *testing.T) {
	dir := t.TempDir()
	r := newRecords(filepath.Join(dir, recordsFile))
	r.Nodes, r.Consensus, r.BlockTimeMs = 1, "pow", 500
	h := common.Hash{1}
	r.Blocks[h] = &BlockRec{Hash: h, Height: 1, TimeMs: 1000, SeenMs: map[int]int64{0: 1001}}
	if err := r.save(); err != nil {
		t.Fatal(err)
	}
	if err := CompressRecords(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, recordsFile)); err != nil {
		t.Fatal(err)
	}
	back, err := LoadRecords(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Blocks) != 1 || back.Blocks[h].TimeMs != 1000 || back.Blocks[h].SeenMs[0] != 1001 {
		t.Fatalf("reloaded %+v", back.Blocks)
	}
}
