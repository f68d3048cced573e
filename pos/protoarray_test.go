package pos

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// TestProtoArrayHead: the head follows the weights down from the root,
// ignores invalid and non-viable branches, starts from any root, and
// survives pruning.
//
//	root - a - b
//	     \ c - d
func TestProtoArrayHead(t *testing.T) {
	h := func(s string) common.Hash { return common.BytesToHash([]byte(s)) }
	p := newProtoArray(h("root"), 0)
	for _, e := range [][2]string{{"a", "root"}, {"b", "a"}, {"c", "root"}, {"d", "c"}, {"x", "unknown"}} {
		want := e[0] != "x"
		if got := p.add(h(e[0]), h(e[1]), 1); got != want {
			t.Fatalf("add %s: %v, want %v", e[0], got, want)
		}
	}
	idx := func(s string) int { return p.index[h(s)] }
	deltas := func(w map[string]int64) []int64 {
		d := make([]int64, len(p.nodes))
		for k, v := range w {
			d[idx(k)] = v
		}
		return d
	}
	head := func(root string) string {
		got, ok := p.head(h(root))
		if !ok {
			return "none"
		}
		for _, s := range []string{"root", "a", "b", "c", "d"} {
			if h(s) == got {
				return s
			}
		}
		return "?"
	}
	p.applyDeltas(deltas(map[string]int64{"b": 3, "d": 2}))
	if got := head("root"); got != "b" {
		t.Fatalf("head %s, want b (3 against 2)", got)
	}
	p.applyDeltas(deltas(map[string]int64{"c": 2})) // a vote for an inner block counts for its branch
	if got := head("root"); got != "d" {
		t.Fatalf("head %s, want d (4 against 3)", got)
	}
	if got := head("a"); got != "b" {
		t.Fatalf("head from a: %s, want b", got)
	}
	p.setJustified(h("d"), 0)
	p.justified = 1
	p.applyDeltas(make([]int64, len(p.nodes)))
	if got := head("root"); got != "b" {
		t.Fatalf("head %s, want b: d's state justifies less than the store", got)
	}
	p.justified = 0
	p.markInvalid(h("c"))
	if got := head("root"); got != "b" {
		t.Fatalf("head %s, want b: c and d are invalid", got)
	}
	p.prune(h("a"), 0)
	if len(p.nodes) != 2 || head("a") != "b" || head("root") != "none" {
		t.Fatalf("after pruning to a: %d nodes, head from a %s, from root %s", len(p.nodes), head("a"), head("root"))
	}
}
