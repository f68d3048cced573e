package engines

import (
	"fmt"
	"math/big"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pow"
	"github.com/ethereum/go-ethereum/common"
)

// Spec is what a genesis is made of: the chain, its funded accounts, and
// who produces its blocks and how often. A zero field takes the default of
// the genesis file (chain.Genesis.FillDefaults and the engine's section).
type Spec struct {
	Consensus string // an engine's name (Names); "" for the default
	ChainID   uint64
	Timestamp uint64 // genesis time, Unix milliseconds
	ExtraData string
	BlockTime time.Duration // target interval between blocks (proof of stake: the slot)
	GasLimit  uint64
	MaxFuture time.Duration // how far ahead of a node's clock a block may be dated
	Alloc     chain.Alloc   // funded accounts; not changed

	// Validators are the genesis validators of an engine that has them.
	Validators []Validator
	// Difficulty is a proof-of-work chain's expected hashes per block at
	// genesis (DifficultyFor), HalfLife its difficulty half-life.
	Difficulty *big.Int
	HalfLife   time.Duration
	// EpochLength is a proof-of-stake chain's epoch in slots; NoFinality
	// turns its finality gadget off.
	EpochLength uint64
	NoFinality  bool
}

// Validator is a genesis validator: its stake, and what its account holds
// (for the fees of its votes; nil funds nothing).
type Validator struct {
	Address common.Address
	Stake   *big.Int
	Balance *big.Int
}

// Genesis builds, fills in and validates the genesis of s.
func Genesis(s Spec) (*chain.Genesis, error) {
	e, err := Lookup(s.Consensus)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	section, err := e.Section(s)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	g := &chain.Genesis{
		ChainID:   s.ChainID,
		Consensus: e.Name,
		BlockTime: chain.Duration(s.BlockTime),
		GasLimit:  s.GasLimit,
		MaxFuture: chain.Duration(s.MaxFuture),
		Timestamp: s.Timestamp,
		ExtraData: s.ExtraData,
		Alloc:     make(chain.Alloc, len(s.Alloc)+len(s.Validators)),
		Engine:    section,
	}
	for addr, acc := range s.Alloc {
		g.Alloc[addr] = chain.GenesisAccount{Balance: chain.NewBigInt(new(big.Int).Set(acc.Balance.Big()))}
	}
	for _, v := range s.Validators {
		if v.Balance != nil {
			g.Alloc[v.Address] = chain.GenesisAccount{Balance: chain.NewBigInt(new(big.Int).Set(v.Balance))}
		}
	}
	g.FillDefaults()
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return g, nil
}

// DifficultyFor is the genesis difficulty at which hashrate nonces per
// second make one block per blockTime (at least 1).
func DifficultyFor(hashrate float64, blockTime time.Duration) *big.Int {
	return big.NewInt(max(int64(hashrate*blockTime.Seconds()), 1))
}

// Hashrate is the hash rate a proof-of-work genesis was made for: its
// difficulty per block time (DifficultyFor's inverse); 0 for another engine.
func Hashrate(g *chain.Genesis) float64 {
	c := pow.Section(g)
	if c == nil {
		return 0
	}
	d, _ := new(big.Float).SetInt(c.Difficulty.Big()).Float64()
	return d / g.BlockTime.D().Seconds()
}

// Ether is n ether in wei.
func Ether(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }
