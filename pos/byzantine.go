package pos

import (
	"context"
	"fmt"
	"math/big"
	"strings"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Behaviour is a set of Byzantine behaviours a validator can be told to
// show, for experiments: honest nodes must detect and slash each of them
// (equivocate, double-vote, surround-vote, twin) or stay safe despite them
// (censor, withhold).
type Behaviour uint8

// Byzantine behaviours.
const (
	// ByzEquivocate signs two different blocks for each of its slots and
	// sends both out.
	ByzEquivocate Behaviour = 1 << iota
	// ByzDoubleVote casts a second, different vote for each target epoch.
	ByzDoubleVote
	// ByzSurroundVote votes from the genesis checkpoint to the current epoch
	// once it has voted from a later source, surrounding that vote.
	ByzSurroundVote
	// ByzCensor leaves other validators' votes and slashing evidence out of
	// its blocks.
	ByzCensor
	// ByzWithhold keeps its blocks private and releases them withholdSlots
	// slots later.
	ByzWithhold
	// ByzTwin runs the validator's keys on a second node at the same time:
	// an operator's failover mistake. Each copy signs honestly and asks its
	// own node's protection database, which knows nothing of the other's
	// messages; when the two sign different blocks for a slot or different
	// votes for an epoch (their pools or views differ), the key is slashed.
	// It changes nothing in the validator itself: the harness that starts
	// the nodes (netsim, the testnet) starts the second copy.
	ByzTwin
	// ByzExAnte keeps each of its blocks private for one slot and
	// releases it when the next slot begins, as the next proposer builds
	// on the block's parent: the ex-ante reorg of Schwarz-Schlatt et al.
	// (2021) in its simplest form, one withheld block against the next
	// honest one. Under the longest chain the two tie and the first seen
	// wins; under LMD-GHOST the next block is timely and boosted, and the
	// votes of its slot's committee go to it.
	ByzExAnte
)

var behaviourNames = []struct {
	b    Behaviour
	name string
}{{ByzEquivocate, "equivocate"}, {ByzDoubleVote, "double-vote"}, {ByzSurroundVote, "surround-vote"}, {ByzCensor, "censor"}, {ByzWithhold, "withhold"}, {ByzTwin, "twin"}, {ByzExAnte, "ex-ante"}}

// withholdSlots is how long a withholding validator keeps a block private.
const withholdSlots = 3

// ParseBehaviour reads a list like "equivocate+censor" (or with commas).
func ParseBehaviour(s string) (Behaviour, error) {
	var out Behaviour
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '+' || r == ',' }) {
		found := false
		for _, n := range behaviourNames {
			if strings.EqualFold(strings.TrimSpace(f), n.name) {
				out |= n.b
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown Byzantine behaviour %q (want %s)", f, Behaviour(0xff))
		}
	}
	if out == 0 {
		return 0, fmt.Errorf("no Byzantine behaviour given (want %s)", Behaviour(0xff))
	}
	return out, nil
}

// String lists the behaviours joined by '+'.
func (b Behaviour) String() string {
	var names []string
	for _, n := range behaviourNames {
		if b&n.b != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, "+")
}

// equivocation builds a second block for a's slot, proposed by k: a's
// transactions plus a transfer of one wei to itself, so that the two differ.
func (v *Validator) equivocation(k *validatorKey, a *chain.Block) (*chain.Block, error) {
	e := v.cfg.Engine
	tip := e.g.BaseFee.Big()
	self := k.addr
	nonce := v.cfg.Chain.Account(self).Nonce
	for _, tx := range a.Txs {
		if from, _ := e.g.Sender(tx); from == self {
			nonce = max(nonce, tx.Nonce()+1)
		}
	}
	extra, err := types.SignNewTx(k.key, e.g.Signer(), &types.DynamicFeeTx{
		ChainID: new(big.Int).SetUint64(e.g.ChainID), Nonce: nonce, GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(e.g.BaseFee.Big(), tip), Gas: chain.TransferGas, To: &self, Value: big.NewInt(1),
	})
	if err != nil {
		return nil, err
	}
	b, err := v.cfg.Chain.BuildBlock(self, append(append([]*types.Transaction(nil), a.Txs...), extra))
	if err != nil {
		return nil, err
	}
	return e.Seal(context.Background(), v.cfg.Chain, b)
}

// badVotes casts k's Byzantine votes of epoch next to the honest vote
// (honest, which it may replace: it reports whether the honest vote is
// still to be cast).
func (v *Validator) badVotes(k *validatorKey, epoch uint64, honest Vote) (castHonest bool) {
	e := v.cfg.Engine
	if v.cfg.Byzantine&ByzSurroundVote != 0 && k.lastSource > 0 {
		v.submitVote(k, Vote{Source: Checkpoint{Epoch: 0, Hash: e.genesisHash}, Target: honest.Target})
		v.log.Warn("Byzantine: surround vote", "epoch", epoch)
		return false
	}
	if v.cfg.Byzantine&ByzDoubleVote != 0 {
		other := honest
		other.Target.Hash = v.cfg.Chain.Head().Hash() // not the checkpoint: a different vote for the same target epoch
		if other.Target.Hash == honest.Target.Hash {
			other.Target.Hash = common.Hash{1}
		}
		v.submitVote(k, other)
		v.log.Warn("Byzantine: double vote", "epoch", epoch)
	}
	return true
}

func (v *Validator) submitVote(k *validatorKey, vote Vote) {
	if err := v.cast(k, vote); err != nil {
		v.log.Error("Cannot sign vote", "epoch", vote.Target.Epoch, "err", err)
	}
}
