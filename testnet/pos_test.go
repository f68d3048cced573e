package testnet

import (
	"context"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
)

// finalizedHeights is each live node's finalized block height (-1 if down).
func finalizedHeights(s *Supervisor) []int64 {
	var out []int64
	for _, n := range s.Status(context.Background()) {
		if !n.Alive || n.Error != "" || n.Finalized == nil {
			out = append(out, -1)
			continue
		}
		out = append(out, int64(*n.Finalized))
	}
	return out
}

func minOf(xs []int64, skip map[int]bool) int64 {
	m := int64(1 << 62)
	for i, x := range xs {
		if !skip[i] {
			m = min(m, x)
		}
	}
	return m
}

func maxOf(xs []int64) int64 {
	m := int64(-1)
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

const (
	posSlot  = 400 * time.Millisecond
	posEpoch = 4 // slots
)

func posOptions() Options {
	return Options{Nodes: 4, Consensus: "pos", BlockTime: posSlot, EpochLength: posEpoch, Seed: 3,
		Link: LinkParams{Latency: 5 * time.Millisecond}}
}

// epochs is how long n epochs take.
func epochs(n int) time.Duration { return time.Duration(n*posEpoch) * posSlot }

// TestPoSFinalityUnderCrashes: four equal validators finalize about every
// two epochs with no fork; with one stopped, blocks and finality continue;
// with two stopped (half the stake), blocks continue but finality stops, and
// it resumes when they return. No finalized block is ever reverted.
func TestPoSFinalityUnderCrashes(t *testing.T) {
	s := up(t, posOptions())
	poll.Until(t, epochs(12), "every node to finalize", func() bool { return minOf(finalizedHeights(s), nil) > 0 })
	healthy := finalizedHeights(s)
	// Healthy: blocks in most slots. That every slot is filled without a
	// reorg when messages arrive in time is TestFinalityAdvancesAndStops-
	// WithoutTwoThirds's to show, on simulated time: here real processes
	// share a loaded machine, where a proposer can be late and leave a
	// shallow fork, so reorgs are only counted (the report shows them).
	slot := uint64(time.Now().UnixMilli()-int64(s.genesis.Timestamp)) / uint64(posSlot.Milliseconds())
	if h := heights(s)[0]; float64(h) < 0.5*float64(slot) {
		t.Fatalf("height %d at slot %d: most slots went empty with every validator up", h, slot)
	}

	if err := s.Kill(3); err != nil {
		t.Fatal(err)
	}
	down := map[int]bool{3: true}
	poll.Until(t, epochs(8), "finality to continue with 3/4 of stake", func() bool {
		return minOf(finalizedHeights(s), down) > maxOf(healthy)
	})
	if err := s.Kill(2); err != nil {
		t.Fatal(err)
	}
	down[2] = true
	time.Sleep(epochs(1)) // votes already cast may still land
	stalled := finalizedHeights(s)
	h0 := heights(s)[0]
	time.Sleep(epochs(4))
	if after := finalizedHeights(s); maxOf(after) != maxOf(stalled) {
		t.Fatalf("finality advanced with half the stake down: %v -> %v", stalled, after)
	}
	if heights(s)[0] <= h0 {
		t.Fatal("no blocks with half the validators down")
	}
	for _, n := range []int{2, 3} {
		if err := s.Restart(n); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, epochs(12), "finality to resume", func() bool { return minOf(finalizedHeights(s), nil) > maxOf(stalled) })
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	rep, err := WriteReport(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if rep.FinalizedReverted != 0 || !rep.HeadsAgree {
		t.Fatalf("finalized blocks reverted: %d; heads agree: %v", rep.FinalizedReverted, rep.HeadsAgree)
	}
	t.Logf("finalized up to block %d; time to finality %s; stale %d of %d; reorgs %d, deepest %d",
		rep.FinalizedHeight, rep.TimeToFinality, rep.Stale, rep.Produced, rep.Reorgs, rep.MaxReorgDepth)
}

// TestPoSPartitionKeepsSafety: split 2|2 for several epochs, neither side
// finalizes anything new and no node reverts a finalized block; after the
// heal the nodes converge and finality resumes.
func TestPoSPartitionKeepsSafety(t *testing.T) {
	s := up(t, posOptions())
	poll.Until(t, epochs(12), "every node to finalize", func() bool { return minOf(finalizedHeights(s), nil) > 0 })
	if err := s.Partition([][]int{{0, 1}, {2, 3}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(epochs(1))
	before := finalizedHeights(s)
	time.Sleep(epochs(5))
	if after := finalizedHeights(s); maxOf(after) != maxOf(before) {
		t.Fatalf("a half finalized during the partition: %v -> %v", before, after)
	}
	s.Heal()
	poll.Until(t, epochs(14), "finality to resume after the heal", func() bool { return minOf(finalizedHeights(s), nil) > maxOf(before) })
	poll.Until(t, epochs(4), "the nodes to converge", sameHeadSoon(s))
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	rep, err := WriteReport(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if rep.FinalizedReverted != 0 {
		t.Fatalf("%d finalized blocks reverted", rep.FinalizedReverted)
	}
	if rep.Reorgs == 0 {
		t.Fatal("the heal should have reorganised one half")
	}
	t.Logf("reorgs %v; finalized up to %d; time to finality %s", rep.ReorgDepths, rep.FinalizedHeight, rep.TimeToFinality)
}
