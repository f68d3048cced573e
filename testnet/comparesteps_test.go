package testnet

import (
	"reflect"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// TestCompareSteps: with 4 nodes the timeline is the comparison's: node 3
// crashes, then node 2, and they restart a second apart; with 100 nodes a
// quarter crashes at each step and the crash windows stay distinct in the
// analysis.
func TestCompareSteps(t *testing.T) {
	d := 120 * time.Second
	at := func(f float64) chain.Duration { return chain.Duration(time.Duration(f * float64(d))) }
	want := []Step{
		{At: 0, Do: "send", Count: 240, Rate: 2},
		{At: at(phasePartition), Do: "partition", Groups: [][]int{{0, 1}, {2, 3}}},
		{At: at(phaseHeal), Do: "heal"},
		{At: at(phaseCrash1), Do: "kill", Node: 3},
		{At: at(phaseCrash2), Do: "kill", Node: 2},
		{At: at(phaseRecover), Do: "restart", Node: 3},
		{At: at(phaseRecover) + chain.Duration(time.Second), Do: "restart", Node: 2},
		{At: chain.Duration(d), Do: "stop"},
	}
	if got := CompareSteps(4, d); !reflect.DeepEqual(got, want) {
		t.Fatalf("CompareSteps(4):\n got %+v\nwant %+v", got, want)
	}
	kills, restarts := map[chain.Duration]int{}, 0
	var last chain.Duration
	for _, st := range CompareSteps(100, d) {
		switch st.Do {
		case "kill":
			kills[st.At]++
		case "restart":
			restarts++
			last = st.At
		}
	}
	if len(kills) != 2 || kills[at(phaseCrash1)] != 25 || kills[at(phaseCrash2)] != 25 || restarts != 50 || last >= chain.Duration(d) {
		t.Fatalf("CompareSteps(100): kills by time %v, %d restarts, the last at %v", kills, restarts, last)
	}
	r := &Records{Nodes: 4, Blocks: map[common.Hash]*BlockRec{}, EndMs: 100, Actions: []ActionRec{
		{TimeMs: 10, What: "partition"}, {TimeMs: 20, What: "heal"},
		{TimeMs: 30, What: "kill 3"}, {TimeMs: 30, What: "kill 2"}, {TimeMs: 50, What: "kill 1"}, {TimeMs: 70, What: "restart 3"}}}
	if res := Analyse("pow", 0, r, Halves(4)); len(res.Crash) != 3 || res.Crash[0].BlocksPerSecCI.Exposure != 0.02 {
		t.Fatalf("crash windows %+v, want the first from the first crash time to the second", res.Crash)
	}
}
