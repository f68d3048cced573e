package pos

import (
	"flag"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// The invariants, checked after every slot of every schedule:
//
//	(a) two conflicting blocks are both finalized (by any nodes) only if
//	    validators with >= 1/3 of the stake signed votes that slash them
//	    (double or surround), among all the votes signed; and then, once
//	    the faults end (see checkAccountable), validators with >= 1/3 of
//	    the stake are slashed in the head state of every honest node
//	    within accountEpochs epochs;
//	(b) no node's finalized checkpoint ever moves to a block that does not
//	    descend from the previous one;
//	(c) every checkpoint a node's head state justifies has, among the
//	    votes signed, one link into it signed by >= 2/3 of the epoch's
//	    stake snapshot, counted from the genesis stakes of the signers;
//
// and, after the last slot of a schedule whose Byzantine validators hold
// less than a third of the stake:
//
//	(d) once the faults end, every honest node's finalized checkpoint
//	    advances within livenessEpochs epochs.

type harnessStats struct {
	schedules, slots, longest                 uint64
	partitions, equivocations, doubleVotes    int
	surrounds, withheld, evidence             int
	finalizations, conflicts, strongSchedules int
	refusedFinal, refusedOther                int
	livenessMax                               uint64 // (d): most epochs waited
	accountMax                                uint64 // (a): most epochs after the faults until >= 1/3 was slashed on every honest node
}

func (s *harnessStats) String() string {
	return fmt.Sprintf("%d schedules, %d slots (longest %d); %d partitions, %d equivocations, %d double-vote rounds, %d surround votes, "+
		"%d withheld blocks, %d evidence messages; %d finalized-checkpoint advances; %d schedules with >= 1/3 Byzantine stake, "+
		"%d conflicting finalizations, each with >= 1/3 of stake slashable, and slashed on every honest node within %d epochs after the faults; blocks refused for reverting a finalized block: %d, for other rules: %d; "+
		"after the faults every honest node's finality advanced within %d epochs",
		s.schedules, s.slots, s.longest, s.partitions, s.equivocations, s.doubleVotes, s.surrounds, s.withheld, s.evidence,
		s.finalizations, s.strongSchedules, s.conflicts, s.accountMax, s.refusedFinal, s.refusedOther, s.livenessMax)
}

func (w *world) check() {
	for _, n := range w.nodes {
		fin := n.c.Finalized()
		if fin != n.finality {
			old := n.finality
			if canon, err := n.c.BlockByHeight(old.Number); fin.Number <= old.Number || err != nil || canon.Hash() != old.Hash {
				w.t.Fatalf("%v: (b) node %d's finalized block moved from %d (%x) to %d (%x), not a descendant", w, n.id, old.Number, old.Hash, fin.Number, fin.Hash)
			}
			n.finality = fin
			w.stats.finalizations++
			w.checkConflicts(n.id, fin)
		}
		st := HeadState{n.c}
		if head := n.c.Head(); head.Header.Nonce%n.e.cfg.EpochLength == 0 {
			checkDraws(w.t, n.e, st, head.Header.Nonce+1)
		}
		if just := n.e.justified(st); just != n.just && just.Epoch > 0 {
			n.just = just
			w.checkJustified(n, just)
		}
	}
}

// checkConflicts compares a newly finalized block with every block that any
// node finalized before: invariant (a).
func (w *world) checkConflicts(id int, fin chain.Checkpoint) {
	for _, other := range w.finals {
		if !w.conflicting(fin, other) {
			continue
		}
		slashable := w.slashable()
		if 3*slashable < w.total {
			w.t.Fatalf("%v: (a) node %d finalized block %d (%x), conflicting with block %d (%x), yet only %d of %d stake is slashable",
				w, id, fin.Number, fin.Hash, other.Number, other.Hash, slashable, w.total)
		}
		w.stats.conflicts++
		w.conflicted = true
		break
	}
	w.finals = append(w.finals, fin)
}

// conflicting reports whether neither block descends from the other.
func (w *world) conflicting(a, b chain.Checkpoint) bool {
	if a.Number > b.Number {
		a, b = b, a
	}
	h := w.headers[b.Hash]
	for h != nil && h.Height > a.Number {
		h = w.headers[h.ParentHash]
	}
	return h == nil || h.Hash() != a.Hash
}

// slashable is the genesis stake of validators that signed two conflicting
// votes.
func (w *world) slashable() int64 {
	var sum int64
	for i := range w.nodes {
		votes := w.votes[addr(i)]
	pairs:
		for a := range votes {
			for b := a + 1; b < len(votes); b++ {
				if Conflict(votes[a], votes[b]) {
					sum += w.stake[i]
					break pairs
				}
			}
		}
	}
	return sum
}

// checkJustified is invariant (c) for the checkpoint just that n's head
// state justifies. The denominator is the engine's snapshot of the epoch,
// itself checked to hold at least the stake of every validator no node ever
// saw slashed, less what the inactivity leak can have taken by then
// (slashing and the leak are the only ways stake leaves in these
// schedules): a score grows by at most 4 an epoch, so the k-th penalty
// takes at most k/q of the stake, and m epochs leave at least
// prod_{k<=m} (1 - k/q) >= 1 - m(m+1)/(2q) of it.
func (w *world) checkJustified(n *simNode, just Checkpoint) {
	st := HeadState{n.c}
	total := n.e.SnapshotTotal(st, just.Epoch)
	var kept int64
	for i := range w.nodes {
		if !w.everSlashed(addr(i)) {
			kept += w.stake[i]
		}
	}
	q, m := new(big.Int).SetUint64(2*Section(w.g).InactivityQuotient), new(big.Int).SetUint64(just.Epoch*(just.Epoch+1))
	floor := new(big.Int).Mul(ether(kept), new(big.Int).Sub(q, m))
	floor.Div(floor, q)
	if total.Cmp(floor) < 0 {
		w.t.Fatalf("%v: (c) node %d: epoch %d's snapshot holds %v, less than the %v wei never slashed nor leaked", w, n.id, just.Epoch, total, floor)
	}
	best := new(big.Int)
	links := map[Checkpoint]map[common.Address]bool{}
	for i := range w.nodes {
		for _, v := range w.votes[addr(i)] {
			if v.Target != just {
				continue
			}
			if links[v.Source] == nil {
				links[v.Source] = map[common.Address]bool{}
			}
			links[v.Source][addr(i)] = true
		}
	}
	for _, signers := range links {
		sum := new(big.Int)
		for i := range w.nodes {
			if signers[addr(i)] {
				sum.Add(sum, ether(w.stake[i]))
			}
		}
		if sum.Cmp(best) > 0 {
			best = sum
		}
	}
	if !supermajority(best, total) {
		w.t.Fatalf("%v: (c) node %d justified epoch %d (%x) with at most %v of %v on one link", w, n.id, just.Epoch, just.Hash, best, total)
	}
}

func (w *world) everSlashed(v common.Address) bool {
	for _, n := range w.nodes {
		if n.e.Slashed(HeadState{n.c}, v) {
			return true
		}
	}
	return false
}

// TestAdversarialSchedules runs seeded random schedules (see harness_test.go)
// and checks the invariants after every slot. -soak N runs N schedules,
// from seed -soak.seed; the schedules are split over two parallel halves.
func TestAdversarialSchedules(t *testing.T) {
	count := uint64(2000)
	if testing.Short() {
		count = 200
	}
	if *soak > 0 {
		count = uint64(*soak)
	}
	var mu sync.Mutex
	total := &harnessStats{}
	t.Run("schedules", func(t *testing.T) {
		for half := uint64(0); half < 2; half++ {
			t.Run(fmt.Sprint(half), func(t *testing.T) {
				t.Parallel()
				stats := &harnessStats{}
				for seed := *soakSeed + half; seed < *soakSeed+count; seed += 2 {
					runSchedule(t, seed, stats)
				}
				mu.Lock()
				total.add(stats)
				mu.Unlock()
			})
		}
	})
	t.Log(total)
	if total.finalizations == 0 {
		t.Fatal("no schedule finalized anything: the harness checks nothing")
	}
}

func runSchedule(t *testing.T, seed uint64, stats *harnessStats) {
	w := newWorld(t, seed, stats)
	slots := Section(w.g).EpochLength * uint64(6+w.rng.IntN(9))
	w.run(slots)
	stats.schedules++
	stats.longest = max(stats.longest, slots)
	end := slots
	if 3*w.byzStake() >= w.total {
		stats.strongSchedules++
	} else {
		end = w.checkLiveness(slots)
	}
	if w.conflicted {
		w.checkAccountable(end)
	}
}

// accountEpochs is N of invariant (a): once the faults end, a message
// still in flight arrives within 10 slots (2.5 epochs, see
// livenessEpochs); an honest node that then sees the second of two
// conflicting votes (in gossip, or in a block it refuses for reverting its
// finalized checkpoint) sends evidence at once, and an honest proposer of
// its branch includes it. A Byzantine proposer censors it for at most its
// own slots.
const accountEpochs = 8

// checkAccountable is the second half of invariant (a), for a schedule in
// which two conflicting blocks were finalized: once the faults end (every
// validator online, the partition healed, missing blocks fetched),
// validators holding >= 1/3 of the genesis stake are slashed in the head
// state of every honest node within accountEpochs epochs.
func (w *world) checkAccountable(from uint64) {
	w.calm = true
	clear(w.offline)
	clear(w.group)
	for s := from + 1; ; s++ {
		w.run1(s)
		w.stats.slots++
		waited := (s - from + Section(w.g).EpochLength - 1) / Section(w.g).EpochLength
		short := -1
		for i, n := range w.nodes {
			if w.byz[i] == 0 && 3*w.slashedOn(n) < w.total {
				short = i
				break
			}
		}
		switch {
		case short < 0:
			w.stats.accountMax = max(w.stats.accountMax, waited)
			return
		case waited > accountEpochs:
			n := w.nodes[short]
			w.t.Fatalf("%v: (a) two conflicting blocks were finalized, yet %d epochs after the faults ended at slot %d honest node %d has slashed only %d of %d stake",
				w, accountEpochs, from, short, w.slashedOn(n), w.total)
		}
	}
}

// slashedOn is the genesis stake of the validators slashed in n's head
// state.
func (w *world) slashedOn(n *simNode) int64 {
	var sum int64
	for i := range w.nodes {
		if n.e.Slashed(HeadState{n.c}, addr(i)) {
			sum += w.stake[i]
		}
	}
	return sum
}

// livenessEpochs is K of invariant (d). Once the faults end, a message
// still in flight arrives within 10 slots (3 of random delay, 2 to 6 more
// for a withheld block: 2.5 epochs of 4 slots); honest validators vote once
// an epoch, from its middle slot, so two consecutive epochs of votes, each
// included before the next epoch's votes are cast, justify E+1 from E and
// finalize E; one more epoch for the boundary: 6. A Byzantine proposer (less
// than a third of the stake, so of the slots) that censors votes or
// withholds its blocks can make the votes of an epoch arrive after the next
// epoch's votes left with the older source, so that only every other epoch
// is justified and nothing is finalized (k = 1 needs consecutive ones): we
// allow 6 more epochs for that (seed 804 of the default run needed 10).
const livenessEpochs = 12

// harnessForkChoice (flag) runs the harness under another fork-choice rule:
// under longest, (d) fails (docs/data/liveness-longest.txt).
var harnessForkChoice = flag.String("harness.forkchoice", ForkChoiceGhost, "adversarial harness: fork-choice rule of the nodes (ghost or longest)")

// checkLiveness is invariant (d): once the faults end (every validator
// online, the partition healed, missing blocks fetched; Byzantine
// validators, holding less than a third of the genesis stake, go on
// misbehaving), every honest node's finalized checkpoint advances within
// livenessEpochs epochs. Under longest-chain fork choice it did not (seeds
// 361 and 1834, the first of each half): an honest validator locked out
// (the head on a branch whose justified checkpoint is older than the
// source it already voted from on a branch since abandoned, so that it
// cannot vote without surrounding its own vote), or honest nodes split by
// finality (one on a longer branch that lacks a block another finalized);
// the failure names which. It returns the last slot it played.
func (w *world) checkLiveness(from uint64) uint64 {
	w.calm = true
	clear(w.offline)
	clear(w.group)
	before := make([]chain.Checkpoint, len(w.nodes))
	for i, n := range w.nodes {
		before[i] = n.c.Finalized()
	}
	for s := from + 1; s <= from+livenessEpochs*Section(w.g).EpochLength; s++ {
		w.run1(s)
		w.stats.slots++
		done := true
		for i, n := range w.nodes {
			if w.byz[i] == 0 && n.c.Finalized().Number <= before[i].Number {
				done = false
			}
		}
		if done {
			w.stats.livenessMax = max(w.stats.livenessMax, (s-from+Section(w.g).EpochLength-1)/Section(w.g).EpochLength)
			return s
		}
	}
	stall := "no lock-out, no split"
	for i, n := range w.nodes {
		if w.byz[i] == 0 && n.lastSrc > n.e.justified(HeadState{n.c}).Epoch {
			stall = fmt.Sprintf("honest validator %d locked out", i)
		}
	}
	if w.splitByFinality() {
		stall = "honest nodes split by finality"
	}
	for i, n := range w.nodes {
		if w.byz[i] == 0 && n.c.Finalized().Number <= before[i].Number {
			w.t.Fatalf("%v: (d) node %d's finalized block stayed at %d (%x) for %d epochs after the faults ended at slot %d (%s)", w, i, before[i].Number, before[i].Hash, livenessEpochs, from, stall)
		}
	}
	return from + livenessEpochs*Section(w.g).EpochLength
}

// splitByFinality reports whether an honest node's head branch lacks a block
// another honest node finalized.
func (w *world) splitByFinality() bool {
	for i, n := range w.nodes {
		if w.byz[i] != 0 {
			continue
		}
		head := n.c.Head()
		for j, m := range w.nodes {
			if w.byz[j] == 0 && w.conflicting(chain.Checkpoint{Number: head.Height(), Hash: head.Hash()}, m.c.Finalized()) {
				return true
			}
		}
	}
	return false
}

func (s *harnessStats) add(o *harnessStats) {
	s.schedules += o.schedules
	s.slots += o.slots
	s.longest = max(s.longest, o.longest)
	s.partitions += o.partitions
	s.equivocations += o.equivocations
	s.doubleVotes += o.doubleVotes
	s.surrounds += o.surrounds
	s.withheld += o.withheld
	s.evidence += o.evidence
	s.finalizations += o.finalizations
	s.conflicts += o.conflicts
	s.strongSchedules += o.strongSchedules
	s.refusedFinal += o.refusedFinal
	s.refusedOther += o.refusedOther
	s.livenessMax = max(s.livenessMax, o.livenessMax)
	s.accountMax = max(s.accountMax, o.accountMax)
}

func (w *world) byzStake() int64 {
	var s int64
	for i, b := range w.byz {
		if b != 0 {
			s += w.stake[i]
		}
	}
	return s
}
