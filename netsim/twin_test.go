package netsim

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/testnet"
)

// TestTwinsFinalizingBothSidesAreSlashedAfterHeal: four validators of equal
// stake; validators 0 and 2 are twins (node 1 runs key 0 as well, node 3
// key 2). The network splits into nodes {1, 2} (keys 1, 0, 2) and {0, 3}
// (keys 0, 3, 2): each side holds three quarters of the stake and
// finalizes its own branch. Once the network heals, every node refuses the
// other side's blocks for reverting its finality, yet its slasher records
// their signed headers: the twins signed two blocks for one slot (and two
// votes for one target), and within slashEpochs of the heal validators 0
// and 2, half the stake, are slashed on every node's chain.
func TestTwinsFinalizingBothSidesAreSlashedAfterHeal(t *testing.T) {
	const epoch, slashEpochs = 8, 4
	slot := 2 * time.Second
	split, heal := slot/2, slot/2+6*epoch*slot // the split comes before the first slot
	res, err := Run(context.Background(), Config{Consensus: "pos", Nodes: 4, Validators: 4, BlockTime: slot, EpochLength: epoch,
		Duration: heal + slashEpochs*epoch*slot, Peers: 3, Seed: 7, Network: mustNetwork(t, "const:100ms"),
		Byzantine: map[int]pos.Behaviour{0: pos.ByzTwin, 2: pos.ByzTwin},
		Steps: []testnet.Step{
			{At: chain.Duration(split), Do: "partition", Groups: [][]int{{1, 2}, {0, 3}}},
			{At: chain.Duration(heal), Do: "heal"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	// The premise: the two sides finalized blocks that conflict.
	r := res.Records
	a, b := r.Finalized[1], r.Finalized[0]
	if len(a) == 0 || len(b) == 0 {
		t.Fatalf("a side finalized nothing: node 1 %d checkpoints, node 0 %d", len(a), len(b))
	}
	fa, fb := a[len(a)-1].Hash, b[len(b)-1].Hash
	if descends(r, fa, fb) || descends(r, fb, fa) {
		t.Fatalf("the sides' finalized blocks %x and %x do not conflict", fa, fb)
	}
	for n, got := range res.SlashedOn {
		if !slices.Equal(got, []int{0, 2}) {
			t.Errorf("node %d: slashed %v on its chain %d epochs after the heal, want [0 2]", n, got, slashEpochs)
		}
	}
}
