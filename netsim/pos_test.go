package netsim

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/testnet"
	"github.com/ethereum/go-ethereum/common"
)

// TestPoSRunFinalizesAndIsDeterministic: on a healthy network every slot
// gets its block, all nodes agree, and finality trails the head by at most
// three epochs, the same in two runs.
func TestPoSRunFinalizesAndIsDeterministic(t *testing.T) {
	const slots, epoch = 300, 8
	a := runTwice(t, func() Config {
		return Config{Consensus: "pos", Nodes: 6, BlockTime: 2 * time.Second, EpochLength: epoch, Duration: slots * 2 * time.Second,
			Peers: 3, Seed: 3, Network: mustNetwork(t, "const:150ms")}
	})
	rep := a.Report
	if rep.Canonical != slots || rep.Stale != 0 || !rep.HeadsAgree || rep.Reorgs != 0 {
		t.Fatalf("%d canonical blocks of %d slots, %d stale, heads agree %v, %d reorgs", rep.Canonical, slots, rep.Stale, rep.HeadsAgree, rep.Reorgs)
	}
	if rep.FinalizedHeight+3*epoch < slots || rep.FinalizedReverted != 0 {
		t.Fatalf("finalized height %d after %d slots (%d reverted)", rep.FinalizedHeight, slots, rep.FinalizedReverted)
	}
}

// TestPoSValidatorsSpreadOverNodes: 40 validators on 6 nodes all propose
// and finality keeps up; with 3 validators on 6 nodes the other three nodes
// only follow, and agree.
func TestPoSValidatorsSpreadOverNodes(t *testing.T) {
	const slots, epoch = 200, 8
	for _, validators := range []int{40, 3} {
		res, err := Run(context.Background(), Config{Consensus: "pos", Nodes: 6, Validators: validators, BlockTime: 2 * time.Second, EpochLength: epoch,
			Duration: slots * 2 * time.Second, Peers: 3, Seed: 5, Network: mustNetwork(t, "const:150ms")})
		if err != nil {
			t.Fatal(err)
		}
		rep := res.Report
		if rep.Canonical != slots || !rep.HeadsAgree || rep.FinalizedHeight+3*epoch < slots || rep.FinalizedReverted != 0 {
			t.Fatalf("%d validators: %d canonical blocks of %d slots, heads agree %v, finalized height %d (%d reverted)",
				validators, rep.Canonical, slots, rep.HeadsAgree, rep.FinalizedHeight, rep.FinalizedReverted)
		}
		proposers := map[common.Address]bool{}
		producing := map[int]bool{}
		for _, b := range res.Records.Blocks {
			proposers[b.Producer] = true
			producing[res.Records.Producers[b.Producer]] = true
		}
		if wantNodes := min(validators, 6); len(proposers) < validators*3/4 || len(producing) != wantNodes {
			t.Fatalf("%d validators: %d proposed, on %d nodes (want %d)", validators, len(proposers), len(producing), wantNodes)
		}
	}
}

// TestPoSPartitionsNeverRevertFinality runs many random schedules of a PoS
// network split three ways (1|2|1 in spirit: no side holds 2/3 of the stake
// unless the draw makes it so), with Byzantine validators holding less than
// a third of the stake, and a heal. In every schedule: no node ever
// finalizes a block that conflicts with a block another node finalized, no
// node's finalized checkpoint moves to a non-descendant, no finalized block
// is off the final chain, and once the network heals finality advances.
func TestPoSPartitionsNeverRevertFinality(t *testing.T) {
	schedules := 24
	if testing.Short() {
		schedules = 6
	}
	behaviours := []pos.Behaviour{pos.ByzEquivocate, pos.ByzDoubleVote, pos.ByzSurroundVote, pos.ByzCensor, pos.ByzWithhold}
	for seed := range uint64(schedules) {
		rng := rand.New(rand.NewPCG(seed, 121))
		nodes := 4 + rng.IntN(6)
		const epoch = 8
		slot := 2 * time.Second
		cfg := Config{Consensus: "pos", Nodes: nodes, BlockTime: slot, EpochLength: epoch, Peers: 3 + nodes%2, Seed: seed, // n*k even
			Network: mustNetwork(t, "lognormal:200ms,0.5"), Byzantine: map[int]pos.Behaviour{}}
		// Byzantine validators: fewer than a third of the (equal) stakes.
		for i := range (nodes - 1) / 3 {
			first, second := behaviours[rng.IntN(len(behaviours))], behaviours[rng.IntN(len(behaviours))] // two draws, maybe the same
			cfg.Byzantine[i] = first | second
		}
		perm := rng.Perm(nodes)
		cut1 := 1 + rng.IntN(nodes-2)
		cut2 := cut1 + 1 + rng.IntN(nodes-cut1-1)
		groups := [][]int{perm[:cut1], perm[cut1:cut2], perm[cut2:]}
		split := time.Duration(2+rng.IntN(4*epoch)) * slot
		heal := split + time.Duration(epoch+rng.IntN(6*epoch))*slot
		cfg.Duration = heal + 6*epoch*slot
		cfg.Validators = nodes * (1 + rng.IntN(3)) // one to three keys per node, so node shares stay equal
		cfg.Steps = []testnet.Step{
			{At: chain.Duration(split), Do: "partition", Groups: groups},
			{At: chain.Duration(heal), Do: "heal"},
		}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := res.Records
		var all []testnet.FinalizedRec
		for n, recs := range r.Finalized {
			for i := 1; i < len(recs); i++ {
				if !descends(r, recs[i].Hash, recs[i-1].Hash) {
					t.Fatalf("seed %d: node %d's finalized checkpoint moved from %x to %x, not a descendant", seed, n, recs[i-1].Hash, recs[i].Hash)
				}
			}
			all = append(all, recs...)
		}
		for _, a := range all {
			for _, b := range all {
				if !descends(r, a.Hash, b.Hash) && !descends(r, b.Hash, a.Hash) {
					t.Fatalf("seed %d: conflicting finalized blocks %x (height %d) and %x (height %d)", seed, a.Hash, a.Height, b.Hash, b.Height)
				}
			}
		}
		if res.Report.FinalizedReverted != 0 {
			t.Fatalf("seed %d: %d finalized blocks reverted", seed, res.Report.FinalizedReverted)
		}
		healMs := genesisTime.Add(heal).UnixMilli()
		advanced := false
		for _, recs := range r.Finalized {
			if len(recs) > 0 && recs[len(recs)-1].TimeMs > healMs {
				advanced = true
			}
		}
		if !advanced {
			t.Fatalf("seed %d: no node finalized anything in the %d epochs after the heal (groups %v, byzantine %v)", seed, 6, groups, cfg.Byzantine)
		}
		t.Logf("seed %d: %d nodes, %d validators, groups %v, byzantine %v, finalized height %d, refused %d", seed, nodes, cfg.Validators, groups, cfg.Byzantine, res.Report.FinalizedHeight, res.Refused)
	}
}

// TestPoSTwinIsSlashed: node 0's validator key also runs on node 1
// (pos.ByzTwin). The two copies act in the key's slots before hearing each
// other, with transfers reaching them at different times, so they sign
// different blocks for one slot: the key, and only it, is slashed, and
// finality keeps up. Without the twin nobody is slashed.
func TestPoSTwinIsSlashed(t *testing.T) {
	const slots, epoch = 200, 8
	for _, byz := range []map[int]pos.Behaviour{{0: pos.ByzTwin}, nil} {
		res, err := Run(context.Background(), Config{Consensus: "pos", Nodes: 6, BlockTime: 2 * time.Second, EpochLength: epoch,
			Duration: slots * 2 * time.Second, Peers: 3, Seed: 5, TxRate: 5, BlockSize: minTxBlock, Byzantine: byz, Network: mustNetwork(t, "const:150ms")})
		if err != nil {
			t.Fatal(err)
		}
		want := []int(nil)
		if byz != nil {
			want = []int{0}
		}
		if rep := res.Report; len(res.Slashed) != len(want) || (want != nil && res.Slashed[0] != 0) || rep.FinalizedHeight+3*epoch < slots || rep.FinalizedReverted != 0 {
			t.Fatalf("byzantine %v: slashed %v, want %v; finalized height %d of %d slots (%d reverted)", byz, res.Slashed, want, rep.FinalizedHeight, slots, rep.FinalizedReverted)
		}
	}
}

// TestPoSFinalityResumesWithHalfCrashed: half of the validators crash for
// good (testnet/scenarios/pos-half-crash.json's timeline); the inactivity
// leak drains their stake and finality resumes during epoch F+7+n*, F the
// last epoch finalized before the crash and n* = pos.LeakEpochs of the
// genesis quotient (1024: 37), within one epoch.
func TestPoSFinalityResumesWithHalfCrashed(t *testing.T) {
	const epoch, crash = 8, 40 * time.Second
	slot := time.Second
	cfg := Config{Consensus: "pos", Nodes: 8, BlockTime: slot, EpochLength: epoch, Peers: 3, Seed: 1,
		Network: mustNetwork(t, "const:50ms"), Duration: 450 * time.Second}
	for n := 4; n < 8; n++ {
		cfg.Steps = append(cfg.Steps, testnet.Step{At: chain.Duration(crash), Do: "kill", Node: n})
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Records
	epochOf := func(ms int64) uint64 { return uint64(ms-r.StartMs) / uint64(epoch*slot.Milliseconds()) }
	var last, resumed *testnet.FinalizedRec
	for i, f := range r.Finalized[0] {
		if f.TimeMs-r.StartMs < crash.Milliseconds() {
			last = &r.Finalized[0][i]
		} else if resumed == nil {
			resumed = &r.Finalized[0][i]
		}
	}
	if last == nil || resumed == nil {
		t.Fatalf("finalized before the crash %v, after it %v", last, resumed)
	}
	// The checkpoint block of epoch F is the last block before F's first slot.
	f := epochOf(r.Blocks[last.Hash].TimeMs) + 1
	want := f + 7 + pos.LeakEpochs(1024)
	got := epochOf(resumed.TimeMs)
	t.Logf("last finalized epoch %d before the crash at %v; finality resumed at %.1f s, epoch %d (predicted %d)", f, crash, float64(resumed.TimeMs-r.StartMs)/1000, got, want)
	if got+1 < want || got > want+1 {
		t.Fatalf("finality resumed in epoch %d, predicted %d ± 1", got, want)
	}
}
