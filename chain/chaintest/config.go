package chaintest

import "github.com/chaind/chaind/chain"

// Consensus is the consensus name of Genesis: its section is a Config, and
// Engine is its engine.
const Consensus = "chaintest"

func init() {
	chain.RegisterEngineConfig(Consensus, func() chain.EngineConfig { return new(Config) })
}

// Config is the genesis section of Consensus. Its one parameter changes
// nothing but the genesis hash; its default lets tests write a genesis as a
// chaind before the parameter existed would have (Param 0).
type Config struct {
	Param uint64 `json:"param,omitempty"`
}

// FillDefaults sets Param to 1 if it is 0.
func (c *Config) FillDefaults(*chain.Genesis) {
	if c.Param == 0 {
		c.Param = 1
	}
}

// Validate accepts every section.
func (c *Config) Validate(*chain.Genesis) error { return nil }

// Describe shows Param.
func (c *Config) Describe() map[string]any { return map[string]any{"param": c.Param} }
