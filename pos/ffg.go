package pos

import (
	"math/big"
	"slices"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Casper FFG, as the state transition runs it.
//
// Votes are tallied per link (source, target): only votes naming the same
// source and the same target add up. A checkpoint is justified when the link
// from the latest justified checkpoint to it carries at least two thirds of
// the stake snapshot of the target's epoch: 3*link >= 2*total, in integer
// arithmetic. We use >= (as Casper FFG and Gasper do): the accountable
// safety bound needs two supermajorities to overlap in at least a third of
// the stake, and two sets of >= 2/3 each overlap in >= 1/3.
//
// The snapshot is taken when the epoch's first block opens it, after pending
// bonds and due exits are settled, and never changes afterwards: stake that
// is unbonded or slashed later in the epoch stays in the denominator, so the
// threshold can only be harder to reach. A slashed validator's weight leaves
// the numerator at once: its votes already tallied for open targets are
// taken back, and its later votes are ignored.
//
// Finalization is the standard rule (k = 1): when the link S -> T justifies
// T and T is the epoch right after S, S is finalized. Gasper's k = 2 rule is
// not implemented; it only finalizes sooner, never differently.

// keySnapshot holds v's voting weight in the snapshot taken at the start of
// epoch base; keySnapshotTotal(base) the snapshot's total. An epoch with no
// block of its own shares the snapshot of the epoch that was opened with it:
// keySnapshotOf(epoch).Nonce is that epoch + 1.
func keySnapshot(base uint64, v common.Address) common.Hash {
	return sysKey("snapshot", u64(base), v[:])
}
func keySnapshotTotal(base uint64) common.Hash { return sysKey("snapshot-total", u64(base)) }
func keySnapshotOf(epoch uint64) common.Hash   { return sysKey("snapshot-of", u64(epoch)) }

// keyLink tallies the stake behind the link source -> target.
func keyLink(source, target Checkpoint) common.Hash {
	return sysKey("link", u64(source.Epoch), source.Hash[:], u64(target.Epoch), target.Hash[:])
}

// takeSnapshot records the stakes of st as the snapshot of epochs first..last
// (last is the epoch being opened; the others had no block).
func (e *Engine) takeSnapshot(st *chain.State, first, last uint64) {
	total := new(big.Int)
	for _, v := range e.ValidatorSet(st) {
		s := e.Stake(st, v)
		if s.Sign() == 0 {
			continue
		}
		total.Add(total, s)
		setRec(st, keySnapshot(last, v), rec{Value: new(big.Int).Set(s)})
	}
	setRec(st, keySnapshotTotal(last), rec{Value: total})
	for ep := first; ep <= last; ep++ {
		setRec(st, keySnapshotOf(ep), rec{Nonce: last + 1, Value: new(big.Int)})
	}
}

// snapshotBase is the epoch whose snapshot applies to epoch.
func (e *Engine) snapshotBase(st StateReader, epoch uint64) (uint64, bool) {
	a, ok := getRec(st, keySnapshotOf(epoch))
	if !ok || a.Nonce == 0 {
		return 0, false
	}
	return a.Nonce - 1, true
}

// SnapshotTotal is the total stake of epoch's snapshot; for an epoch that st
// has not opened (or genesis) it is the current total stake.
func (e *Engine) SnapshotTotal(st StateReader, epoch uint64) *big.Int {
	base, ok := e.snapshotBase(st, epoch)
	if !ok {
		return e.totalStake(st)
	}
	a, _ := getRec(st, keySnapshotTotal(base))
	return new(big.Int).Set(a.Value)
}

// SnapshotStake is v's stake in epoch's snapshot (see SnapshotTotal).
func (e *Engine) SnapshotStake(st StateReader, epoch uint64, v common.Address) *big.Int {
	base, ok := e.snapshotBase(st, epoch)
	if !ok {
		return e.Stake(st, v)
	}
	a, _ := getRec(st, keySnapshot(base, v))
	return new(big.Int).Set(a.Value)
}

// VotingWeight is what v's vote for a target in epoch adds to a link: its
// snapshot stake, or zero once it is slashed.
func (e *Engine) VotingWeight(st StateReader, epoch uint64, v common.Address) *big.Int {
	if e.Slashed(st, v) {
		return new(big.Int)
	}
	return e.SnapshotStake(st, epoch, v)
}

// LinkStake is the stake tallied on the link source -> target in st.
func (e *Engine) LinkStake(st StateReader, source, target Checkpoint) *big.Int {
	a, _ := getRec(st, keyLink(source, target))
	return new(big.Int).Set(a.Value)
}

// supermajority reports 3*part >= 2*total (and total > 0).
func supermajority(part, total *big.Int) bool {
	return total.Sign() > 0 && new(big.Int).Mul(part, big.NewInt(3)).Cmp(new(big.Int).Mul(total, big.NewInt(2))) >= 0
}

// Tally is the stake on the link from the latest justified checkpoint to
// epoch's checkpoint, and epoch's snapshot total.
func (e *Engine) Tally(st StateReader, epoch uint64) (voted, total *big.Int) {
	total = e.SnapshotTotal(st, epoch)
	target, ok := e.checkpoint(st, epoch)
	if !ok {
		return new(big.Int), total
	}
	return e.LinkStake(st, e.justified(st), Checkpoint{Epoch: epoch, Hash: target}), total
}

// linkID names a link in a validator's vote record.
func linkID(v Vote) common.Hash {
	return common.BytesToHash(crypto.Keccak256(u64(v.Source.Epoch), v.Source.Hash[:], u64(v.Target.Epoch), v.Target.Hash[:]))
}

// vote applies sv, a vote of a block's body whose signature was checked. A
// vote of an address that never was a validator makes the block invalid.
// A vote that cannot count (its source is not the latest justified
// checkpoint, its target is not this chain's checkpoint or not after the
// source, or its voter was slashed) is applied and ignored. A second,
// different vote of one validator for one target epoch in this chain,
// counted or not, is a double vote proven by the chain itself: the voter is
// slashed; that holds for targets above the pruning horizon (see prune),
// and a vote for an older target is ignored without a trace (the slashers'
// evidence still slashes a double vote there).
func (e *Engine) vote(st *chain.State, h *chain.Header, sv SignedVote) error {
	v, from := sv.Vote, sv.Validator
	if !e.cfg.FinalityOn() {
		return chain.NewRuleError(ErrBadVote, "the finality gadget is off on this chain")
	}
	if !e.isValidator(st, from) {
		return chain.NewRuleError(ErrNotValidator, "vote from %s", from.Hex())
	}
	if e.Slashed(st, from) || v.Target.Epoch < prunedBelow(st) {
		return nil
	}
	voted := keyVoted(v.Target.Epoch, from)
	if prev, _ := getRec(st, voted); prev.Nonce != 0 {
		if hashOf(prev) != linkID(v) {
			e.slash(st, h, from)
		}
		return nil
	}
	target, ok := e.checkpoint(st, v.Target.Epoch)
	mark := uint64(votedOther)
	if ok && target == v.Target.Hash {
		mark = votedTarget // keeps the voter's inactivity score down (inactivity.go)
	}
	setWord(st, voted, mark, linkID(v)) // every vote, counted or not: a different one for this epoch is a double vote
	just := e.justified(st)
	switch {
	case v.Source != just, !ok, target != v.Target.Hash, v.Target.Epoch <= just.Epoch, v.Target.Epoch > e.Epoch(h.Nonce):
		return nil // stale or for another branch: nothing to count
	}
	weight := e.VotingWeight(st, v.Target.Epoch, from)
	if weight.Sign() == 0 {
		return nil
	}
	link := keyLink(v.Source, v.Target)
	sum := new(big.Int).Add(e.LinkStake(st, v.Source, v.Target), weight)
	setRec(st, link, rec{Value: sum})
	setWord(st, keyVoteLink(v.Target.Epoch, from), v.Source.Epoch, v.Source.Hash)
	if supermajority(sum, e.SnapshotTotal(st, v.Target.Epoch)) {
		setWord(st, keyJustified, v.Target.Epoch, v.Target.Hash)
		if just.Epoch+1 == v.Target.Epoch && just.Hash != e.genesisHash {
			setWord(st, keyFinalized, just.Epoch, just.Hash)
		}
	}
	return nil
}

// keyVoteLink keeps the source of v's counted vote for a target epoch, so
// that a slashing can take the vote back.
func keyVoteLink(epoch uint64, v common.Address) common.Hash {
	return sysKey("vote-source", u64(epoch), v[:])
}

// withdrawVotes takes v's counted votes for the targets still open (after
// the latest justified checkpoint, up to h's epoch) off their links.
func (e *Engine) withdrawVotes(st *chain.State, h *chain.Header, v common.Address) {
	just := e.justified(st)
	for ep := just.Epoch + 1; ep <= e.Epoch(h.Nonce) && ep <= just.Epoch+maxEpochGap; ep++ {
		src, _ := getRec(st, keyVoteLink(ep, v))
		if src.Value.Sign() == 0 {
			continue
		}
		target, ok := e.checkpoint(st, ep)
		if !ok {
			continue
		}
		source := Checkpoint{Epoch: src.Nonce, Hash: hashOf(src)}
		tgt := Checkpoint{Epoch: ep, Hash: target}
		sum := e.LinkStake(st, source, tgt)
		sum.Sub(sum, e.SnapshotStake(st, ep, v))
		if sum.Sign() < 0 {
			sum.SetInt64(0)
		}
		setRec(st, keyLink(source, tgt), rec{Value: sum})
	}
}

// isValidator reports whether v is or was a validator of st: a genesis
// validator (a map lookup, as every vote asks) or one listed since.
func (e *Engine) isValidator(st StateReader, v common.Address) bool {
	_, genesis := e.stakeKeys[v]
	return genesis || slices.Contains(registered(st), v)
}

// Pruning keeps the state's size proportional to the validators rather than
// to the epochs. The per-validator records of a target epoch (who voted,
// the source of a counted vote, the stake snapshot) matter only while a
// vote for that target can still count, that is while the target is after
// the justified checkpoint; justification only moves forward on a branch.
// When an epoch opens, the records of targets before the justified epoch
// are deleted, at most pruneEpochs epochs per block so that a block's work
// stays bounded after a long stall. The per-epoch records (checkpoints,
// snapshot totals, link tallies) stay: they are O(1) per epoch.

// keyPruned holds (nonce) the first target epoch whose records are kept.
var keyPruned = sysKey("pruned-below")

const pruneEpochs = 4

// prunedBelow is the first target epoch whose records st keeps.
func prunedBelow(st StateReader) uint64 {
	p, _ := getRec(st, keyPruned)
	return p.Nonce
}

// prune deletes the per-validator records of up to pruneEpochs target
// epochs before the justified one.
func (e *Engine) prune(st *chain.State) {
	just := e.justified(st)
	from := prunedBelow(st)
	to := min(just.Epoch, from+pruneEpochs)
	if from >= to {
		return
	}
	validators := e.ValidatorSet(st)
	for ep := from; ep < to; ep++ {
		for _, v := range validators {
			setRec(st, keyVoted(ep, v), rec{})
			setRec(st, keyVoteLink(ep, v), rec{})
			// A snapshot taken at ep serves epochs up to ep only (those
			// without a block of their own before it), so none is open.
			setRec(st, keySnapshot(ep, v), rec{})
		}
	}
	setRec(st, keyPruned, rec{Nonce: to, Value: new(big.Int)})
}
