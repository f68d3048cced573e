package pow

import (
	"errors"
	"time"

	"github.com/chaind/chaind/chain"
)

func init() {
	chain.RegisterEngineConfig(chain.ConsensusPoW, func() chain.EngineConfig { return new(GenesisConfig) })
}

// GenesisConfig is the "pow" section of a genesis file.
type GenesisConfig struct {
	Difficulty *chain.BigInt  `json:"difficulty,omitempty"` // expected hashes per block at genesis
	HalfLife   chain.Duration `json:"asert_half_life"`      // difficulty half-life; default 64 block times
}

var _ chain.EngineConfig = (*GenesisConfig)(nil)

// Section is g's "pow" section, nil if g is not a proof-of-work genesis.
func Section(g *chain.Genesis) *GenesisConfig {
	c, _ := g.Engine.(*GenesisConfig)
	return c
}

// FillDefaults sets the half-life to 64 block times if it is unset.
func (c *GenesisConfig) FillDefaults(g *chain.Genesis) {
	if c.HalfLife == 0 {
		c.HalfLife = 64 * g.BlockTime
	}
}

// Validate checks the difficulty and the half-life.
func (c *GenesisConfig) Validate(*chain.Genesis) error {
	var errs []error
	if c.Difficulty == nil || c.Difficulty.Big().Sign() <= 0 {
		errs = append(errs, errors.New("a positive difficulty is needed"))
	}
	if c.HalfLife < chain.Duration(time.Millisecond) {
		errs = append(errs, errors.New("asert_half_life must be at least 1ms"))
	}
	return errors.Join(errs...)
}

// Describe shows the half-life (chaind_consensus shows the head's
// difficulty, not the genesis one).
func (c *GenesisConfig) Describe() map[string]any {
	return map[string]any{"asertHalfLifeMs": c.HalfLife.D().Milliseconds(), "finality": "none (probabilistic)"}
}
