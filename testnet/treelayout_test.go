package testnet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// partitionRecords is a recorded run of four nodes split 0,1 | 2,3 and
// healed: the halves' chains A (canonical, by nodes 0 and 1) and B (forked
// at height 4, by nodes 2 and 3), a stale block of node 2 inside half B (on
// B at height 7) and one of node 0 inside half A (at height 8).
func partitionRecords(dir string) (r *Records, a, b map[uint64]common.Hash, staleB, staleA common.Hash) {
	r = newRecords(filepath.Join(dir, recordsFile))
	r.Nodes, r.Consensus, r.BlockTimeMs, r.StartMs, r.EndMs = 4, "pow", 1000, 1_000_000, 1_014_000
	cb := func(i int) common.Address { return common.Address{0xc0, byte(i)} }
	for i := range 4 {
		r.Producers[cb(i)] = i
	}
	n := 0
	add := func(parent common.Hash, height uint64, producer int, seers ...int) common.Hash {
		n++
		h := common.BytesToHash([]byte(fmt.Sprintf("block %d", n)))
		seen := map[int]int64{}
		for _, s := range seers {
			seen[s] = r.StartMs + int64(height)*1000 + int64(s)
		}
		r.Blocks[h] = &BlockRec{Hash: h, Parent: parent, Height: height, Producer: cb(producer), SeenMs: seen}
		for _, s := range seers {
			r.Events = append(r.Events, EventRec{Node: s, TimeMs: seen[s], Hash: h, Height: height})
		}
		return h
	}
	genesis := common.Hash{0x99}
	r.Blocks[genesis] = &BlockRec{Hash: genesis, Height: 0, SeenMs: map[int]int64{}}
	a, b = map[uint64]common.Hash{0: genesis}, map[uint64]common.Hash{}
	for h := uint64(1); h <= 12; h++ {
		seers := []int{0, 1}
		if h < 4 || h > 10 {
			seers = []int{0, 1, 2, 3}
		}
		a[h] = add(a[h-1], h, int(h%2), seers...)
	}
	b[3] = a[3]
	for h := uint64(4); h <= 10; h++ {
		b[h] = add(b[h-1], h, 2+int(h%2), 2, 3)
	}
	staleB = add(b[6], 7, 2, 2, 3)
	staleA = add(a[7], 8, 0, 0, 1)
	for i := range 4 {
		r.FinalHeads[i] = a[12]
	}
	r.Actions = []ActionRec{{TimeMs: r.StartMs + 3500, What: "partition [[0 1] [2 3]]"}, {TimeMs: r.StartMs + 10500, What: "heal"}}
	return r, a, b, staleB, staleA
}

// TestTreeRowsKeepBranchesApart: on the dashboard and in the report's
// block-tree plots, the canonical chain is row 0, the other half's branch
// keeps one row, and a stale block inside either half is on a row of its
// own, never on the other half's row.
func TestTreeRowsKeepBranchesApart(t *testing.T) {
	r, a, b, staleB, staleA := partitionRecords(t.TempDir())
	rows := map[string]int{}
	for _, blk := range recordedView(r).Blocks {
		rows[blk.Hash] = blk.Row
	}
	for h := uint64(1); h <= 12; h++ {
		if rows[a[h].Hex()] != 0 {
			t.Errorf("canonical block at %d on row %d", h, rows[a[h].Hex()])
		}
	}
	rowB := rows[b[4].Hex()]
	for h := uint64(4); h <= 10; h++ {
		if rows[b[h].Hex()] != rowB || rowB == 0 {
			t.Errorf("the other half's block at %d on row %d, its branch on row %d", h, rows[b[h].Hex()], rowB)
		}
	}
	for name, h := range map[string]common.Hash{"node 2's stale block": staleB, "node 0's stale block": staleA} {
		if row := rows[h.Hex()]; row == 0 || row == rowB {
			t.Errorf("%s on row %d (canonical 0, the other half's branch %d)", name, row, rowB)
		}
	}
}

// TestReportColoursAndLegend: the report's dashboard.html gives each node
// the colour the plots draw it in, and explains the red outline of side
// branches.
func TestReportColoursAndLegend(t *testing.T) {
	dir := t.TempDir()
	r, _, _, _, _ := partitionRecords(dir)
	if err := r.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteReport(dir); err != nil {
		t.Fatal(err)
	}
	read := func(f string) string {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	page, heads, tree := read("dashboard.html"), read("heads.svg"), read("blocktree-node2.svg")
	if !strings.Contains(page, "red outline") {
		t.Error("dashboard.html does not explain the red outline of side branches")
	}
	for i, c := range []string{"#F15A60", "#7AC36A", "#5A9BD4", "#FAA75B"} { // the plots' series colours
		if !strings.Contains(heads, "stroke:"+c) {
			t.Fatalf("heads.svg does not draw node %d in %s", i, c)
		}
		if i >= 2 && !strings.Contains(tree, "fill:"+c) {
			t.Errorf("blocktree-node2.svg does not fill node %d's blocks with %s", i, c)
		}
	}
	if !strings.Contains(page, `"colours":["#F15A60","#7AC36A","#5A9BD4","#FAA75B"]`) {
		t.Error("dashboard.html does not colour the nodes as the plots do")
	}
}

// TestHeadsPlotSpansTheRun: the heads plot's height axis covers the heights
// of the run, not 0 up (a resumed run at height 100 would squash every
// node's steps into one line at the top).
func TestHeadsPlotSpansTheRun(t *testing.T) {
	r := newRecords("")
	r.Nodes, r.StartMs = 2, 1_000_000
	for i := range 10 {
		for n := range 2 {
			r.Events = append(r.Events, EventRec{Node: n, TimeMs: r.StartMs + int64(1000*i+300*n), Height: uint64(100 + i)})
		}
	}
	path := filepath.Join(t.TempDir(), "heads.svg")
	if err := headsFigure(r).Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), ">102</text>") || strings.Contains(string(data), ">40</text>") { // ticks every 2 heights, not every 20 from 0
		t.Error("the heads plot's height axis does not span the run's heights 100 to 109")
	}
}
