package pos

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Gasper's fork choice (HLMD-GHOST), as the consensus specs' Store runs it:
// start from the highest justified checkpoint the node has seen in the
// state of a head it adopted, then at each fork take the child with the
// most stake behind it, counting each validator's latest head vote (the
// head vote of its vote for the highest target epoch, from the votes in
// every block the node stored, on any branch) with the validator's stake in
// the head state (zero once slashed). A block that arrived in the first
// third of its own slot is boosted, until that slot ends, by
// proposerScoreBoost percent of a slot's share of the stake, as the specs'
// PROPOSER_SCORE_BOOST, so that a block released late loses to the timely
// block of the next slot (the ex-ante reorg of Schwarz-Schlatt et al.). The
// tree is a proto-array (protoarray.go).
//
// What is left out: the specs' filter_block_tree, which also drops the
// branches whose own state has not justified the store's checkpoint, and
// unrealized justification; the fork choice does not execute side branches,
// so it only knows the justification of heads it adopted. The node's
// finalized block, below the justified one, is kept by the chain itself.

// Fork-choice rules.
const (
	// ForkChoiceGhost is LMD-GHOST from the latest justified checkpoint,
	// with proposer boost: the default with the finality gadget on.
	ForkChoiceGhost = "ghost"
	// ForkChoiceLongest is the longest chain that keeps the finalized
	// block: the default with the gadget off, and selectable for
	// comparisons.
	ForkChoiceLongest = "longest"
)

// proposerScoreBoost is the boost of a timely block, in percent of a slot's
// share of the total stake (the consensus specs' PROPOSER_SCORE_BOOST).
const proposerScoreBoost = 40

// pruneNodes is how many blocks below the finalized one the tree keeps
// before it drops them.
const pruneNodes = 256

var _ chain.ForkChooser = (*Engine)(nil)

// SetForkChoice selects the fork-choice rule of the chains opened on e
// afterwards: ForkChoiceGhost or ForkChoiceLongest; "" restores the
// default (ghost with the finality gadget, longest without it).
func (e *Engine) SetForkChoice(rule string) error {
	switch rule {
	case "", ForkChoiceLongest:
	case ForkChoiceGhost:
		if !e.cfg.FinalityOn() {
			return fmt.Errorf("pos: fork choice %q needs the finality gadget", rule)
		}
	default:
		return fmt.Errorf("pos: unknown fork choice %q (want %s or %s)", rule, ForkChoiceGhost, ForkChoiceLongest)
	}
	e.rule = rule
	return nil
}

// ForkChoice is the rule in force: ForkChoiceGhost or ForkChoiceLongest.
func (e *Engine) ForkChoice() string {
	switch {
	case e.rule != "":
		return e.rule
	case e.cfg.FinalityOn():
		return ForkChoiceGhost
	}
	return ForkChoiceLongest
}

// NewForkChoice implements chain.ForkChooser: nil (the longest chain, by
// Weight) unless the rule is ForkChoiceGhost.
func (e *Engine) NewForkChoice(anchor *chain.Header) chain.ForkChoice {
	if e.ForkChoice() != ForkChoiceGhost {
		return nil
	}
	total := new(big.Int)
	for _, v := range e.cfg.Validators {
		total.Add(total, v.Stake.Big())
	}
	unit := new(big.Int).Rsh(total, weightBits)
	if unit.Sign() == 0 {
		unit.SetInt64(1)
	}
	return &forkChoice{e: e, unit: unit, tree: newProtoArray(anchor.Hash(), anchor.Nonce), latest: make(map[common.Address]*latestVote)}
}

// weightBits: the tree counts stake in units of 2^-weightBits of the
// genesis stake, so that int64 weights hold any stake up to 2^31 times the
// genesis total and a validator with a millionth of it still weighs.
const weightBits = 32

// forkChoice is one chain's Gasper fork choice. The chain calls it with its
// write lock held; the validator hands it the votes its node sees in gossip
// (ObserveVotes), so mu guards it as well.
type forkChoice struct {
	mu        sync.Mutex
	e         *Engine
	unit      *big.Int // wei per unit of weight
	tree      *protoArray
	justified Checkpoint  // the highest justified checkpoint of an adopted head that keeps finalized
	finalized Checkpoint  // the highest finalized checkpoint of an adopted head: every head descends from it
	root      common.Hash // the trusted checkpoint, once stored: every head descends from it
	latest    map[common.Address]*latestVote

	boost        common.Hash // the first timely block of boostSlot
	boostSlot    uint64
	boostApplied common.Hash // where the tree holds the boost, and how much
	boostWeight  int64
}

// latestVote is a validator's latest message: the head of its vote for the
// highest target epoch, and the node and weight the tree holds for it.
type latestVote struct {
	epoch   uint64
	root    common.Hash
	applied common.Hash
	weight  int64
}

// AddBlock adds b to the tree, takes the head votes it carries, and boosts
// it if it is the first block to arrive in the first third of its slot.
func (f *forkChoice) AddBlock(b *chain.Block, arrived time.Time) {
	e := f.e
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.tree.add(b.Hash(), b.Header.ParentHash, b.Header.Nonce) {
		return
	}
	if body, err := DecodeBody(b.Consensus); err == nil {
		f.takeVotes(body.Votes)
	}
	slot := b.Header.Nonce
	timely := !arrived.IsZero() && e.SlotAt(arrived) == slot && arrived.Sub(e.SlotTime(slot)) < time.Duration(e.slotMs)*time.Millisecond/3
	if timely && (f.boost == (common.Hash{}) || f.boostSlot != slot) {
		f.boost, f.boostSlot = b.Hash(), slot
	}
}

// takeVotes takes the head votes among votes, whose signatures were
// checked, as latest messages; the caller holds mu.
func (f *forkChoice) takeVotes(votes []SignedVote) {
	for _, sv := range votes {
		v, from := sv.Vote, sv.Validator
		if v.Head == (common.Hash{}) {
			continue
		}
		if lv := f.latest[from]; lv == nil {
			f.latest[from] = &latestVote{epoch: v.Target.Epoch, root: v.Head}
		} else if v.Target.Epoch > lv.epoch {
			lv.epoch, lv.root = v.Target.Epoch, v.Head
		}
	}
}

// ObserveVotes takes the head votes among votes, received before any block
// carries them and checked (AddVote), as latest messages (a vote counts
// for fork choice once its node sees it, as an attestation does in
// Ethereum); the next Head counts them.
func ObserveVotes(fc chain.ForkChoice, votes []SignedVote) {
	f, ok := fc.(*forkChoice)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.takeVotes(votes)
}

// Executed raises the finalized and justified checkpoints to head's, if
// higher, and drops the blocks that head's finalized checkpoint excludes.
// A justified checkpoint that the new finalized block does not precede
// (one that equivocating validators justified on another branch) gives way
// to head's: the chain refuses every branch without the finalized block,
// so fork choice must start below it.
func (f *forkChoice) Executed(head *chain.Block, st *chain.State) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, fin := f.e.justified(st), f.e.finalized(st)
	if fin.Epoch > f.finalized.Epoch || f.finalized.Hash == (common.Hash{}) {
		f.finalized = fin
		if !f.tree.descends(f.justified.Hash, fin.Hash) {
			f.justified = j
		}
	}
	if j.Epoch > f.justified.Epoch || f.justified.Hash == (common.Hash{}) {
		f.justified = j
	}
	f.tree.setJustified(head.Hash(), j.Epoch)
	f.tree.prune(fin.Hash, pruneNodes)
}

// Root makes every head descend from hash.
func (f *forkChoice) Root(hash common.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.root = hash
}

// Invalid excludes hash and its descendants.
func (f *forkChoice) Invalid(hash common.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tree.markInvalid(hash)
}

// Head moves the weights of the votes that changed (or whose voter's stake
// did) and the proposer boost, and returns the best descendant of the
// justified checkpoint (of the finalized block, then of the trusted
// checkpoint, if the justified one does not descend from them; of the
// tree's root if the tree holds neither).
func (f *forkChoice) Head(st *chain.State, now time.Time) common.Hash {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, tree := f.e, f.tree
	deltas := make([]int64, len(tree.nodes))
	for v, lv := range f.latest {
		w := f.weight(st, v)
		oldIdx, hadOld := tree.index[lv.applied]
		if hadOld && lv.applied == lv.root && lv.weight == w {
			continue
		}
		if hadOld {
			deltas[oldIdx] -= lv.weight
		}
		lv.applied, lv.weight = common.Hash{}, 0
		if w == 0 {
			// No stake behind it (never a validator, exited or slashed):
			// nothing to count, and votes from any number of keys that
			// gossip shows before intake must not stay.
			delete(f.latest, v)
			continue
		}
		if i, ok := tree.index[lv.root]; ok {
			deltas[i] += w
			lv.applied, lv.weight = lv.root, w
		}
	}
	boost, amount := common.Hash{}, int64(0)
	if f.boost != (common.Hash{}) && e.SlotAt(now) == f.boostSlot {
		boost = f.boost
		amount = f.units(e.totalStake(st)) / int64(e.cfg.EpochLength) * proposerScoreBoost / 100
	}
	if boost != f.boostApplied || amount != f.boostWeight {
		if i, ok := tree.index[f.boostApplied]; ok {
			deltas[i] -= f.boostWeight
		}
		f.boostApplied, f.boostWeight = common.Hash{}, 0
		if i, ok := tree.index[boost]; ok {
			deltas[i] += amount
			f.boostApplied, f.boostWeight = boost, amount
		}
	}
	tree.justified = f.justified.Epoch
	tree.applyDeltas(deltas)
	start := f.justified.Hash
	if _, ok := tree.index[f.finalized.Hash]; ok && !tree.descends(start, f.finalized.Hash) {
		start = f.finalized.Hash
	}
	if f.root != (common.Hash{}) && !tree.descends(start, f.root) {
		start = f.root
	}
	if head, ok := tree.head(start); ok {
		return head
	}
	head, _ := tree.head(tree.nodes[0].hash)
	return head
}

// VoteSlot is the slot of epoch at which v votes (its committee, as in
// Ethereum, where each slot's committee attests to the head it sees then):
// a hash of v and epoch, so that the votes of an epoch spread over its
// slots and each slot's head gets about 1/EpochLength of the stake behind
// it. A validator that finds no block of the epoch yet on its head votes
// at a later slot.
func (e *Engine) VoteSlot(v common.Address, epoch uint64) uint64 {
	h := crypto.Keccak256(v[:], u64(epoch))
	return epoch*e.cfg.EpochLength + binary.BigEndian.Uint64(h[:8])%e.cfg.EpochLength
}

// weight is v's stake in st in units, zero once slashed.
func (f *forkChoice) weight(st *chain.State, v common.Address) int64 {
	if f.e.Slashed(st, v) {
		return 0
	}
	return f.units(f.e.Stake(st, v))
}

// units is wei in the tree's units.
func (f *forkChoice) units(wei *big.Int) int64 {
	return new(big.Int).Quo(wei, f.unit).Int64()
}
