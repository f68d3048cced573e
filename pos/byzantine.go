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

// conduct is what a validator does at the points where a Byzantine one
// departs from the protocol: which blocks it publishes for its slot, how
// long it keeps them private, which votes it casts, whether it leaves
// others' votes and evidence out of its blocks. honest is the protocol;
// each Byzantine behaviour wraps the conduct it is given and changes one
// of these, so that the validator's own code has no Byzantine branch.
type conduct interface {
	// blocks returns the blocks to publish for the slot of sealed, k's
	// honest block.
	blocks(v *Validator, k *validatorKey, sealed *chain.Block) []*chain.Block
	// holdSlots is how many slots the blocks stay private.
	holdSlots() uint64
	// votes casts the votes of epoch beside the honest vote and reports
	// whether the honest vote is still to be cast.
	votes(v *Validator, k *validatorKey, epoch uint64, honest Vote) (castHonest bool)
	// censors reports whether its blocks leave others' votes and evidence
	// out.
	censors() bool
}

// honest follows the protocol.
type honest struct{}

func (honest) blocks(_ *Validator, _ *validatorKey, sealed *chain.Block) []*chain.Block {
	return []*chain.Block{sealed}
}
func (honest) holdSlots() uint64                                  { return 0 }
func (honest) votes(*Validator, *validatorKey, uint64, Vote) bool { return true }
func (honest) censors() bool                                      { return false }

// conduct wraps the honest conduct in b's behaviours. When both withhold
// and ex-ante are given, withholding's longer hold wins; a surround vote,
// once it can be cast, replaces the double vote and the honest one.
func (b Behaviour) conduct() conduct {
	var c conduct = honest{}
	wraps := []struct {
		b    Behaviour
		wrap func(conduct) conduct
	}{
		{ByzEquivocate, func(c conduct) conduct { return equivocate{c} }},
		{ByzDoubleVote, func(c conduct) conduct { return doubleVote{c} }},
		{ByzSurroundVote, func(c conduct) conduct { return surroundVote{c} }},
		{ByzCensor, func(c conduct) conduct { return censor{c} }},
		{ByzExAnte, func(c conduct) conduct { return hold{c, 1} }},
		{ByzWithhold, func(c conduct) conduct { return hold{c, withholdSlots} }},
	}
	for _, w := range wraps {
		if b&w.b != 0 {
			c = w.wrap(c)
		}
	}
	return c
}

// equivocate publishes a second, different block for each of its slots.
type equivocate struct{ conduct }

func (e equivocate) blocks(v *Validator, k *validatorKey, sealed *chain.Block) []*chain.Block {
	out := e.conduct.blocks(v, k, sealed)
	if twin, err := v.equivocation(k, sealed); err == nil {
		out = append(out, twin)
		v.log.Warn("Byzantine: two blocks for one slot", "slot", sealed.Header.Nonce, "a", sealed.Hash(), "b", twin.Hash())
	}
	return out
}

// hold keeps its blocks private for slots slots.
type hold struct {
	conduct
	slots uint64
}

func (h hold) holdSlots() uint64 { return h.slots }

// censor leaves others' votes and evidence out of its blocks.
type censor struct{ conduct }

func (censor) censors() bool { return true }

// doubleVote casts a second vote for each target epoch, naming the head
// instead of the checkpoint.
type doubleVote struct{ conduct }

func (d doubleVote) votes(v *Validator, k *validatorKey, epoch uint64, honest Vote) bool {
	other := honest
	other.Target.Hash = v.cfg.Chain.Head().Hash()
	if other.Target.Hash == honest.Target.Hash {
		other.Target.Hash = common.Hash{1}
	}
	v.submitVote(k, other)
	v.log.Warn("Byzantine: double vote", "epoch", epoch)
	return d.conduct.votes(v, k, epoch, honest)
}

// surroundVote, once it has voted from a later source than genesis, votes
// from the genesis checkpoint to the current epoch instead, surrounding
// that vote.
type surroundVote struct{ conduct }

func (s surroundVote) votes(v *Validator, k *validatorKey, epoch uint64, honest Vote) bool {
	if k.lastSource == 0 {
		return s.conduct.votes(v, k, epoch, honest)
	}
	v.submitVote(k, Vote{Source: Checkpoint{Epoch: 0, Hash: v.cfg.Engine.genesisHash}, Target: honest.Target})
	v.log.Warn("Byzantine: surround vote", "epoch", epoch)
	return false
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

func (v *Validator) submitVote(k *validatorKey, vote Vote) {
	if err := v.cast(k, vote); err != nil {
		v.log.Error("Cannot sign vote", "epoch", vote.Target.Epoch, "err", err)
	}
}
