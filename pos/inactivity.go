package pos

import (
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// The inactivity leak, as Ethereum's (Altair/Bellatrix
// process_inactivity_updates and get_inactivity_penalty_deltas), so that
// finality resumes when more than a third of the stake stays offline: the
// stake of those who do not vote shrinks until the voters hold two thirds.
//
// Each validator has an inactivity score. When an epoch E opens (its first
// block, after E-1), every validator with weight in the snapshot of target
// epoch E-2 is judged on that target: one that voted for this chain's
// checkpoint of E-2 (counted or not) loses 1 point (down to 0), any other
// gains InactivityScoreBias points; then, unless the chain is leaking, every
// score loses InactivityScoreRecoveryRate more. The chain is leaking when
// finality lags: (E-1) - the finalized epoch > MinEpochsToInactivityPenalty.
// A validator that missed the target it was judged on pays, when the next
// epoch opens, stake·score/(InactivityScoreBias·q) of its active stake,
// burned (q is the genesis inactivity_quotient), before bonds and exits are
// settled. Judging E-2 rather than E-1 gives a vote, cast from the middle of
// its epoch, an epoch and a half to be included; paying one opening later
// makes the settlement a function of records written at openings, so that
// the draw of an epoch not yet opened (draw.go) knows it exactly.
//
// Outside a leak a missed vote raises a score by 4 and the recovery takes it
// back to 0, so nobody pays; in a leak a validator offline for good scores
// 4, 8, 12, ... and keeps (1 - 1/q)(1 - 2/q)... of its stake; voters pay
// nothing. With half the stake offline for good, the voters reach two
// thirds once the offline half is halved: after n openings of the leak,
// the least n with prod_{k=1..n} (1 - k/q) <= 1/2, about sqrt(2 q ln 2)
// (38 for q = 1024); docs/pos.md has the whole count.

// LeakEpochs is n*, the number of leak penalties after which a stake that
// misses every vote keeps at most half of itself: the least n with
// prod_{k=1..n} (1 - k/q), q the genesis inactivity_quotient, at most 1/2.
// With half the stake offline for good, finality resumes during epoch
// F+7+n*, F the last epoch finalized before (docs/pos.md).
func LeakEpochs(q uint64) uint64 {
	left := 1.0
	for n := uint64(1); ; n++ {
		left *= 1 - float64(n)/float64(q)
		if left <= 0.5 {
			return n
		}
	}
}

// Ethereum's constants.
const (
	InactivityScoreBias          = 4
	InactivityScoreRecoveryRate  = 16
	MinEpochsToInactivityPenalty = 4
)

// keyInactivity holds v's inactivity score (nonce) and whether v missed the
// target it was last judged on (value 1).
func keyInactivity(v common.Address) common.Hash { return sysKey("inactivity", v[:]) }

// Values of keyVoted's nonce: a vote for another block than this chain's
// checkpoint, and one for this chain's checkpoint (the vote that keeps a
// validator's score down).
const (
	votedOther  = 1
	votedTarget = 2
)

// InactivityScore is v's inactivity score in st, and whether it missed the
// last target it was judged on.
func (e *Engine) InactivityScore(st StateReader, v common.Address) (score uint64, missed bool) {
	r, _ := getRec(st, keyInactivity(v))
	return r.Nonce, r.Value.Sign() != 0
}

// inactivityPenalty is what v, with active stake, pays when the next epoch
// opens.
func (e *Engine) inactivityPenalty(st StateReader, v common.Address, stake *big.Int) *big.Int {
	score, missed := e.InactivityScore(st, v)
	if !missed || score == 0 || stake.Sign() == 0 {
		return new(big.Int)
	}
	p := new(big.Int).Mul(stake, new(big.Int).SetUint64(score))
	p.Div(p, new(big.Int).SetUint64(InactivityScoreBias*e.cfg.InactivityQuotient))
	if p.Cmp(stake) > 0 {
		p.Set(stake)
	}
	return p
}

// Leaking reports whether st's finality lags enough for an epoch opening
// in epoch to run the leak (see above).
func (e *Engine) Leaking(st StateReader, epoch uint64) bool {
	fin := e.finalized(st).Epoch
	return epoch >= 1 && epoch-1 > fin+MinEpochsToInactivityPenalty
}

// updateInactivity judges every validator on target epoch-2 as epoch opens.
// It runs after settleStakes (which charged the previous judgement) and
// before the epoch's snapshot and pruning.
func (e *Engine) updateInactivity(st *chain.State, epoch uint64) {
	if !e.cfg.FinalityOn() || epoch < 3 {
		return // no target before epoch 1 to judge
	}
	target := epoch - 2
	leak := e.Leaking(st, epoch)
	for _, v := range e.ValidatorSet(st) {
		old, _ := getRec(st, keyInactivity(v))
		score, missed := old.Nonce, false
		if e.VotingWeight(st, target, v).Sign() > 0 {
			if voted, _ := getRec(st, keyVoted(target, v)); voted.Nonce == votedTarget {
				score -= min(1, score)
			} else {
				score += InactivityScoreBias
				missed = true
			}
			if !leak {
				score -= min(InactivityScoreRecoveryRate, score)
			}
		}
		next := rec{Nonce: score, Value: new(big.Int)}
		if missed {
			next.Value.SetInt64(1)
		}
		if next.Nonce != old.Nonce || next.Value.Cmp(old.Value) != 0 {
			setStakeRec(st, keyInactivity(v), next) // the next settlement reads it: the draw's digest covers it
		}
	}
}
