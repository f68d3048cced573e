package pos

import (
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
)

// groupRun runs slots on groups of validators, each group a view of its
// own (a partition): in each slot, each group's view draws the proposer; if
// that validator is in the group it builds a block on the group's head with
// the votes of the group's members (from the middle of the epoch on, once
// per epoch), and the group's nodes import it. Validators in no group are
// offline. It adds every vote signed to votes, per validator.
func groupRun(t *testing.T, g *chain.Genesis, clk *clocks.Sim, nodes []node, groups [][]int, slots uint64, votes map[int][]Vote) {
	t.Helper()
	for s := uint64(0); s < slots; s++ {
		clk.Advance(slotMs * time.Millisecond)
		slot := nodes[0].e.SlotAt(clk.Now())
		epoch := nodes[0].e.Epoch(slot)
		for _, group := range groups {
			view := nodes[group[0]]
			p := view.e.Proposer(HeadState{view.c}, slot)
			proposer := -1
			for _, i := range group {
				if addr(i) == p {
					proposer = i
				}
			}
			if proposer < 0 || view.e.Slashed(HeadState{view.c}, p) {
				continue
			}
			var items []any
			if slot%Section(g).EpochLength >= Section(g).EpochLength/2 && epoch > 0 {
				for _, i := range group {
					st := HeadState{nodes[i].c}
					target, ok := nodes[i].e.checkpoint(st, epoch)
					if done, _ := getRec(st, keyVoted(epoch, addr(i))); done.Nonce != 0 || !ok {
						continue
					}
					v := Vote{Source: nodes[i].e.justified(st), Target: Checkpoint{epoch, target}}
					votes[i] = append(votes[i], v)
					items = append(items, signedVote(t, g, key(i), v))
				}
			}
			n := nodes[proposer]
			sealed := buildSealed(t, n, p, pool(t, n, items))
			for _, i := range group {
				if err := nodes[i].c.InsertBlock(sealed); err != nil {
					t.Fatalf("node %d refused slot %d: %v", i, slot, err)
				}
			}
		}
	}
}

// finalizedEpoch is the finalized epoch of node n's head state.
func finalizedEpoch(n node) uint64 { return n.e.finalized(HeadState{n.c}).Epoch }

// leakSetup runs four equal validators, all online, for four 16-slot epochs
// on a genesis with inactivity quotient 64, and returns them with the votes
// cast and the epoch finalized by then.
func leakSetup(t *testing.T) (*chain.Genesis, *clocks.Sim, []node, map[int][]Vote, uint64) {
	t.Helper()
	g := testGenesis(10, 10, 10, 10)
	Section(g).EpochLength = 16
	Section(g).InactivityQuotient = 64
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, g, clk)
	votes := map[int][]Vote{}
	groupRun(t, g, clk, nodes, [][]int{{0, 1, 2, 3}}, 4*Section(g).EpochLength, votes)
	return g, clk, nodes, votes, finalizedEpoch(nodes[0])
}

// TestInactivityLeakRestoresFinality: with half of the stake offline for
// good, finality stops, the offline half leaks, and finality resumes at the
// epoch the formula predicts: the offline validators are judged on target
// E-2 when epoch E opens, the leak runs from the opening of F+6 (F the last
// finalized epoch), its k-th penalty takes k/q, so the snapshot of epoch
// F+6+n* gives the online half two thirds, that epoch is justified, and it
// is finalized during the next one, F+7+n*. Tolerance: one epoch either
// way (a vote whose epoch's later slots all belong to offline proposers
// waits an epoch for a block).
func TestInactivityLeakRestoresFinality(t *testing.T) {
	g, clk, nodes, votes, f := leakSetup(t)
	if f == 0 {
		t.Fatal("nothing finalized while all were online")
	}
	n := LeakEpochs(Section(g).InactivityQuotient)
	want := f + 7 + n
	var resumed uint64
	for s := uint64(0); s < (want+10)*Section(g).EpochLength && resumed == 0; s++ {
		groupRun(t, g, clk, nodes, [][]int{{0, 1}}, 1, votes)
		if finalizedEpoch(nodes[0]) > f {
			resumed = nodes[0].e.Epoch(nodes[0].e.SlotAt(clk.Now()))
		}
	}
	t.Logf("q %d: finalized epoch %d when half went offline; n* = %d; finality resumed in epoch %d (predicted %d); offline stake left %v of %v",
		Section(g).InactivityQuotient, f, n, resumed, want, nodes[0].e.Stake(HeadState{nodes[0].c}, addr(2)), ether(10))
	if resumed == 0 || resumed+1 < want || resumed > want+1 {
		t.Fatalf("finality resumed in epoch %d, predicted %d ± 1 (half of the stake offline since epoch %d's finality)", resumed, want, f)
	}
	for _, i := range []int{0, 1} {
		if s := nodes[0].e.Stake(HeadState{nodes[0].c}, addr(i)); s.Cmp(ether(10)) != 0 {
			t.Fatalf("online validator %d lost stake: %v", i, s)
		}
	}
	checkEscrow(t, nodes[0])
}

// checkEscrow: the staking address holds every bonded wei (active, pending
// and unbonding stake): penalties leave both sides.
func checkEscrow(t *testing.T, n node) {
	t.Helper()
	st := HeadState{n.c}
	sum := n.e.totalStake(st)
	for _, v := range n.e.ValidatorSet(st) {
		for _, k := range [...]struct{ key [32]byte }{{keyPending(v)}, {keyUnbonding(v)}} {
			r, _ := getRec(st, k.key)
			sum.Add(sum, r.Value)
		}
	}
	if escrow := n.c.Account(StakingAddress).Balance; escrow.Cmp(sum) != 0 {
		t.Fatalf("the staking address holds %v, the bonded stake is %v", escrow, sum)
	}
}

// TestPartitionsLeakEachOtherOut: two halves of the stake, cut off from each
// other for good, each see the other half offline; each leaks it out and
// finalizes its own branch, at the epoch the formula predicts. The two
// finalized blocks conflict and nobody signed two conflicting votes:
// nobody is slashable (docs/pos.md).
func TestPartitionsLeakEachOtherOut(t *testing.T) {
	g, clk, nodes, votes, f := leakSetup(t)
	want := f + 7 + LeakEpochs(Section(g).InactivityQuotient)
	start := nodes[0].e.Epoch(nodes[0].c.Head().Header.Nonce)
	groupRun(t, g, clk, nodes, [][]int{{0, 1}, {2, 3}}, (want+2-start)*Section(g).EpochLength, votes)
	a, b := nodes[0].e.finalized(HeadState{nodes[0].c}), nodes[2].e.finalized(HeadState{nodes[2].c})
	if a.Epoch <= f || b.Epoch <= f {
		t.Fatalf("after %d epochs apart the halves finalized epochs %d and %d (%d before the partition, predicted to resume by epoch %d)", want+2-start, a.Epoch, b.Epoch, f, want)
	}
	if a.Hash == b.Hash {
		t.Fatal("the halves finalized the same block")
	}
	for i := range nodes {
		for x := range votes[i] {
			for y := x + 1; y < len(votes[i]); y++ {
				if Conflict(votes[i][x], votes[i][y]) {
					t.Fatalf("validator %d signed conflicting votes %v and %v", i, votes[i][x], votes[i][y])
				}
			}
		}
	}
	t.Logf("partitioned at epoch %d (finalized %d); finalized epochs %d and %d on the two sides by epoch %d, %d epochs of %d slots after the split; nobody slashable",
		start, f, a.Epoch, b.Epoch, want+1, want+2-start, Section(g).EpochLength)
}
