package engines

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/pow"
)

// Engine is one consensus engine of the table.
type Engine struct {
	// Name is the engine's consensus name, in genesis files and --consensus.
	Name string
	// Summary says in a few words what the engine is, for flag help.
	Summary string
	// Section makes the engine's genesis section from s; it refuses a
	// Spec field the engine has no use for.
	Section func(s Spec) (chain.EngineConfig, error)
}

// table lists the engines chaind runs; the first is the default.
var table = []Engine{
	{Name: chain.ConsensusPoW, Summary: "proof of work (Nakamoto consensus)", Section: powSection},
	{Name: chain.ConsensusPoS, Summary: "longest-chain proof of stake with a finality gadget", Section: posSection},
}

// Names lists the engines' names, the default first.
func Names() []string {
	names := make([]string, len(table))
	for i, e := range table {
		names[i] = e.Name
	}
	return names
}

// Lookup returns the engine called name ("" is the default engine).
func Lookup(name string) (Engine, error) {
	if name == "" {
		return table[0], nil
	}
	for _, e := range table {
		if e.Name == name {
			return e, nil
		}
	}
	return Engine{}, fmt.Errorf("consensus %q: want one of %v", name, Names())
}

func powSection(s Spec) (chain.EngineConfig, error) {
	if len(s.Validators) > 0 || s.EpochLength != 0 || s.NoFinality {
		return nil, errors.New("pow has no validators, epochs or finality")
	}
	c := &pow.GenesisConfig{HalfLife: chain.Duration(s.HalfLife)}
	if s.Difficulty != nil {
		c.Difficulty = chain.NewBigInt(new(big.Int).Set(s.Difficulty))
	}
	return c, nil
}

func posSection(s Spec) (chain.EngineConfig, error) {
	if s.Difficulty != nil || s.HalfLife != 0 {
		return nil, errors.New("pos has no difficulty")
	}
	c := &pos.GenesisConfig{SlotTime: chain.Duration(s.BlockTime), EpochLength: s.EpochLength}
	if s.NoFinality {
		off := false
		c.Finality = &off
	}
	for _, v := range s.Validators {
		c.Validators = append(c.Validators, pos.GenesisValidator{Address: v.Address, Stake: chain.NewBigInt(new(big.Int).Set(v.Stake))})
	}
	return c, nil
}
