package pos

import (
	"errors"
	"fmt"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

func init() {
	chain.RegisterEngineConfig(chain.ConsensusPoS, func() chain.EngineConfig { return new(GenesisConfig) })
}

// GenesisConfig is the "pos" section of a genesis file.
type GenesisConfig struct {
	SlotTime    chain.Duration     `json:"slot_time,omitempty"`    // length of a slot; block_time follows it
	EpochLength uint64             `json:"epoch_length,omitempty"` // slots per epoch
	Finality    *bool              `json:"finality,omitempty"`     // the 2/3-stake finality gadget; default on
	Validators  []GenesisValidator `json:"validators,omitempty"`   // the validator set and its stakes
	UnbondDelay uint64             `json:"unbond_delay,omitempty"` // epochs before unbonded stake is paid out
	// InactivityQuotient scales the inactivity leak (Ethereum's
	// INACTIVITY_PENALTY_QUOTIENT): a validator that keeps missing its
	// votes while finality lags loses score/(4·quotient) of its stake per
	// epoch, its score growing by 4 an epoch; default 1024.
	InactivityQuotient uint64 `json:"inactivity_quotient,omitempty"`
}

// GenesisValidator is a validator of the genesis and its stake.
type GenesisValidator struct {
	Address common.Address `json:"address"`
	Stake   *chain.BigInt  `json:"stake"`
}

var _ chain.EngineConfig = (*GenesisConfig)(nil)

// Section is g's "pos" section, nil if g is not a proof-of-stake genesis.
func Section(g *chain.Genesis) *GenesisConfig {
	c, _ := g.Engine.(*GenesisConfig)
	return c
}

// FinalityOn reports whether the chain runs the finality gadget.
func (c *GenesisConfig) FinalityOn() bool { return c.Finality == nil || *c.Finality }

// FillDefaults sets the unset parameters; block_time is the slot, and a
// block may come at most a quarter slot early (max_future), unless set.
func (c *GenesisConfig) FillDefaults(g *chain.Genesis) {
	if c.SlotTime == 0 {
		c.SlotTime = chain.Duration(time.Second)
	}
	g.BlockTime = c.SlotTime
	if c.EpochLength == 0 {
		c.EpochLength = 8
	}
	if c.UnbondDelay == 0 {
		c.UnbondDelay = 2
	}
	if c.InactivityQuotient == 0 {
		c.InactivityQuotient = 1024
	}
	if g.MaxFuture == 0 {
		g.MaxFuture = c.SlotTime / 4 // a block may not come before its slot
	}
}

// Validate checks the validators and the epoch length.
func (c *GenesisConfig) Validate(*chain.Genesis) error {
	var errs []error
	if len(c.Validators) == 0 {
		errs = append(errs, errors.New("validators are needed"))
	}
	if c.EpochLength < 2 {
		errs = append(errs, errors.New("epoch_length must be at least 2"))
	}
	seen := map[common.Address]bool{}
	for _, v := range c.Validators {
		if v.Stake == nil || v.Stake.Big().Sign() <= 0 || v.Stake.Big().BitLen() > 200 {
			errs = append(errs, fmt.Errorf("validator %s: stake must be positive", v.Address.Hex()))
		}
		if seen[v.Address] {
			errs = append(errs, fmt.Errorf("validator %s listed twice", v.Address.Hex()))
		}
		seen[v.Address] = true
	}
	return errors.Join(errs...)
}

// Describe shows the slot, the epoch, the number of validators and whether
// the finality gadget runs.
func (c *GenesisConfig) Describe() map[string]any {
	finality := "off (probabilistic proof of stake)"
	if c.FinalityOn() {
		finality = "Casper FFG: 2/3 of stake justifies, two consecutive justified epochs finalize"
	}
	return map[string]any{"slotTimeMs": c.SlotTime.D().Milliseconds(), "epochLength": c.EpochLength,
		"validators": len(c.Validators), "finality": finality}
}
