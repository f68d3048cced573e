package bft

import (
	"flag"
	"math/rand/v2"
	"testing"
	"time"
)

var (
	schedules = flag.Int("bft.schedules", 2000, "schedules the BFT explorer runs per invariant")
	firstSeed = flag.Uint64("bft.seed", 1, "seed of the explorer's first schedule")
)

// runLimit is the simulated time after which a run that has not decided
// every height counts as not live: far beyond every bound of roundBound.
const runLimit = 6 * time.Hour

// TestExplorerSafetyAndLiveness runs -bft.schedules schedules with
// Byzantine stake below a third and checks that no two honest validators
// decide differently at a height (safety), and that after GST every
// height commits within roundBound's rounds (liveness).
func TestExplorerSafetyAndLiveness(t *testing.T) {
	n := *schedules
	if testing.Short() {
		n = min(n, 200)
	}
	var stats roundStats
	for i := range n {
		s := newScenario(*firstSeed+uint64(i), underThird)
		o := run(s, runLimit)
		if h, why := o.fork(); h != 0 {
			t.Fatalf("safety: %s\n%s", why, s)
		}
		rounds, err := o.liveness()
		if err != nil {
			t.Fatalf("liveness: %v\n%s", err, s)
		}
		stats.add(rounds)
	}
	t.Logf("%d schedules; %s", n, stats)
}

// TestExplorerAccountableSafety runs schedules with Byzantine stake of a
// third or more (equivocating or silent): any disagreement between honest
// validators must come with verified evidence of double signing against at
// least a third of the stake, taken from the messages honest validators
// received.
func TestExplorerAccountableSafety(t *testing.T) {
	n := *schedules
	if testing.Short() {
		n = min(n, 200)
	}
	forks, least := 0, 1.0
	for i := range n {
		s := newScenario(*firstSeed+uint64(i), atLeastThird)
		o := run(s, s.net.gst+time.Minute)
		h, why := o.fork()
		if h == 0 {
			continue
		}
		forks++
		_, power, err := o.evidence()
		if err != nil {
			t.Fatalf("evidence does not verify: %v\n%s", err, s)
		}
		_, total := s.byzPower()
		if 3*power < total {
			t.Fatalf("accountable safety: %s, but only %d of %d stake provably double-signed\n%s", why, power, total, s)
		}
		least = min(least, float64(power)/float64(total))
	}
	t.Logf("%d schedules with Byzantine stake >= 1/3: %d forks, each with >= 1/3 of the stake convicted (the least: %.3f of the stake)", n, forks, least)
	if forks == 0 {
		t.Errorf("no fork in %d schedules: the accountable-safety check checked nothing", n)
	}
}

// TestExplorerFindsTheLockingBug shows that the invariants catch a bug:
// with every validator wrapped so that it ignores its lock (as if line 22's
// and 28's lock checks were gone), the explorer finds two honest-counted
// validators deciding differently with Byzantine stake below a third.
func TestExplorerFindsTheLockingBug(t *testing.T) {
	forgetLocks := func(rng *rand.Rand, stakes []int64) map[int]behaviour {
		byz := underThird(rng, stakes)
		for i := range stakes {
			if _, ok := byz[i]; !ok {
				byz[i] = amnesiac{}
			}
		}
		return byz
	}
	for i := range *schedules {
		s := newScenario(*firstSeed+uint64(i), forgetLocks)
		for j := range s.honest {
			_, isAmnesiac := s.byz[j].(amnesiac)
			s.honest[j] = s.honest[j] || isAmnesiac
		}
		if byz, total := s.byzPower(); 3*byz >= total {
			t.Fatalf("scenario with %d of %d stake Byzantine", byz, total)
		}
		o := run(s, s.net.gst+time.Minute)
		if h, why := o.fork(); h != 0 {
			t.Logf("schedule %d of %d: %s\n%s", i+1, *schedules, why, s)
			return
		}
	}
	t.Fatalf("no safety violation found in %d schedules with locking disabled", *schedules)
}

// silentThird makes silent validators of at least a third of the stake
// (leaving at least two honest ones).
func silentThird(rng *rand.Rand, stakes []int64) map[int]behaviour {
	byz := atLeastThird(rng, stakes)
	for i := range byz {
		byz[i] = silent{}
	}
	return byz
}

// TestExplorerHaltsWithoutAQuorum: with a third of the stake or more
// silent, the honest validators hold no quorum; they must decide nothing
// at all (BFT halts rather than forks), however long the run.
func TestExplorerHaltsWithoutAQuorum(t *testing.T) {
	n := min(*schedules, 200)
	for i := range n {
		s := newScenario(*firstSeed+uint64(i), silentThird)
		o := run(s, s.net.gst+time.Minute)
		for j, ds := range o.decisions {
			if s.honest[j] && len(ds) > 0 {
				t.Fatalf("validator %d decided %d heights without a quorum of live stake\n%s", j, len(ds), s)
			}
		}
	}
	t.Logf("%d schedules with at least a third of the stake silent: no decision, no fork", n)
}
