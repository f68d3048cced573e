package bftchain

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// Name is the engine's consensus name, in genesis files and --consensus.
const Name = "bft"

func init() {
	chain.RegisterEngineConfig(Name, func() chain.EngineConfig { return new(GenesisConfig) })
}

// GenesisConfig is the "bft" section of a genesis file: the validators and
// the timeouts of a round, each growing by its delta every round (CometBFT's
// timeout_propose + round * timeout_propose_delta).
type GenesisConfig struct {
	Validators     []GenesisValidator `json:"validators,omitempty"`
	Propose        chain.Duration     `json:"timeout_propose,omitempty"`
	ProposeDelta   chain.Duration     `json:"timeout_propose_delta,omitempty"`
	Prevote        chain.Duration     `json:"timeout_prevote,omitempty"`
	PrevoteDelta   chain.Duration     `json:"timeout_prevote_delta,omitempty"`
	Precommit      chain.Duration     `json:"timeout_precommit,omitempty"`
	PrecommitDelta chain.Duration     `json:"timeout_precommit_delta,omitempty"`
}

// GenesisValidator is a validator and its stake, in wei; its voting power
// is the stake in gwei.
type GenesisValidator struct {
	Address common.Address `json:"address"`
	Stake   *chain.BigInt  `json:"stake"`
}

var _ chain.EngineConfig = (*GenesisConfig)(nil)

// Section is g's "bft" section, nil if g is not a BFT genesis.
func Section(g *chain.Genesis) *GenesisConfig {
	c, _ := g.Engine.(*GenesisConfig)
	return c
}

// gwei is the wei in one unit of voting power.
var gwei = big.NewInt(1e9)

// maxPower bounds a set's total power, as CometBFT's MaxTotalVotingPower.
const maxPower = int64(1) << 60

// FillDefaults sets CometBFT's default timeouts.
func (c *GenesisConfig) FillDefaults(*chain.Genesis) {
	def := func(d *chain.Duration, v time.Duration) {
		if *d == 0 {
			*d = chain.Duration(v)
		}
	}
	def(&c.Propose, 3*time.Second)
	def(&c.ProposeDelta, 500*time.Millisecond)
	def(&c.Prevote, time.Second)
	def(&c.PrevoteDelta, 500*time.Millisecond)
	def(&c.Precommit, time.Second)
	def(&c.PrecommitDelta, 500*time.Millisecond)
}

// Validate checks the validators (at least one, each with at least a gwei
// of stake, none twice, the total within bounds) and that a commit of any
// quorum fits a commit (maxCommitSigs precommits).
func (c *GenesisConfig) Validate(*chain.Genesis) error {
	if len(c.Validators) == 0 {
		return errors.New("validators are needed")
	}
	var errs []error
	seen := map[common.Address]bool{}
	for _, v := range c.Validators {
		if v.Stake == nil || v.Stake.Big().Cmp(gwei) < 0 || v.Stake.Big().BitLen() > 120 {
			errs = append(errs, fmt.Errorf("validator %s: stake must be at least a gwei", v.Address.Hex()))
		}
		if seen[v.Address] {
			errs = append(errs, fmt.Errorf("validator %s listed twice", v.Address.Hex()))
		}
		seen[v.Address] = true
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	vals, err := c.ValidatorSet()
	if err != nil {
		return err
	}
	if n := worstQuorum(vals); n > maxCommitSigs {
		return fmt.Errorf("a commit may need %d signatures; a commit holds %d", n, maxCommitSigs)
	}
	return nil
}

// Describe shows the number of validators and the first round's timeouts.
func (c *GenesisConfig) Describe() map[string]any {
	return map[string]any{"validators": len(c.Validators), "timeoutProposeMs": c.Propose.D().Milliseconds(),
		"timeoutPrevoteMs": c.Prevote.D().Milliseconds(), "timeoutPrecommitMs": c.Precommit.D().Milliseconds(),
		"finality": "Tendermint: a block is final once more than 2/3 of the stake precommitted it"}
}

// Timeouts are the section's timeouts for bft.
func (c *GenesisConfig) Timeouts() bft.Timeouts {
	return bft.Timeouts{Propose: c.Propose.D(), ProposeDelta: c.ProposeDelta.D(), Prevote: c.Prevote.D(),
		PrevoteDelta: c.PrevoteDelta.D(), Precommit: c.Precommit.D(), PrecommitDelta: c.PrecommitDelta.D()}
}

// ValidatorSet is the section's set for bft: each validator named by its
// address, with its stake in gwei as power, in the section's order.
func (c *GenesisConfig) ValidatorSet() (*bft.ValidatorSet, error) {
	vals := make([]bft.Validator, len(c.Validators))
	var total int64
	for i, v := range c.Validators {
		p := new(big.Int).Quo(v.Stake.Big(), gwei)
		if !p.IsInt64() || p.Int64() > maxPower-total {
			return nil, fmt.Errorf("validators' stakes exceed %d gwei", maxPower)
		}
		total += p.Int64()
		vals[i] = bft.NewValidator(v.Address.Bytes(), p.Int64())
	}
	return bft.NewValidatorSet(vals)
}

// worstQuorum is the most signatures a minimal commit may need: that of the
// smallest validators, added until they pass two thirds.
func worstQuorum(vals *bft.ValidatorSet) int {
	powers := make([]int64, vals.Size())
	for i := range powers {
		powers[i] = vals.Power(i)
	}
	slices.Sort(powers)
	var sum int64
	for i, p := range powers {
		if sum += p; vals.HasQuorum(sum) {
			return i + 1
		}
	}
	return len(powers)
}
