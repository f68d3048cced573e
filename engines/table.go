package engines

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"

	"github.com/chaind/chaind/bftchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/pow"
	"github.com/ethereum/go-ethereum/core/types"
)

// Engine is one consensus engine of the table.
type Engine struct {
	// Name is the engine's consensus name, in genesis files and --consensus.
	Name string
	// Summary says in a few words what the engine is, for flag help.
	Summary string
	// Producers says who makes the engine's blocks.
	Producers Producers
	// TestnetFlags are the flags of testnet up that only this engine reads.
	TestnetFlags []string
	// Section makes the engine's genesis section from s; it refuses a
	// Spec field the engine has no use for.
	Section func(s Spec) (chain.EngineConfig, error)
	// New makes the engine of a node on genesis g.
	New func(g *chain.Genesis, o Options) (chain.Engine, error)
	// Producer (optional) makes the block producer of a node with a
	// validator key, for an engine whose blocks neither a miner nor the
	// proof-of-stake validator makes (BFT).
	Producer func(c ProducerConfig) (Producer, error)
}

// ProducerConfig is what a node gives its engine's Producer.
type ProducerConfig struct {
	Chain  *chain.Chain                    // required, on the engine New made
	Txs    func() []*types.Transaction     // required: pending transactions, best first
	Key    *ecdsa.PrivateKey               // required: the validator's key
	Dir    string                          // required: the producer's own directory
	Gossip func(code byte, payload []byte) // required: sends a consensus message to the peers
	Clock  clock.Clock                     // required
	Logger *slog.Logger                    // required
}

// Producer makes a node's blocks until closed.
type Producer interface {
	Start()
	// NotifyTxs says that transactions wait.
	NotifyTxs()
	Close() error
}

// Producers is who makes an engine's blocks, which decides how a chain of
// it is set up and its nodes started.
type Producers int

const (
	// Miners: any node that mines (--mine); the genesis difficulty is made
	// for a declared hash rate (DifficultyFor).
	Miners Producers = iota
	// Validators: the genesis validators, each node with its keys
	// (--validator.key).
	Validators
)

// Options are what a node gives its engine besides the genesis; each
// engine reads its own.
type Options struct {
	Clock clock.Clock // required
	// Miners: the sealing threads (0: one per CPU) and the hash rate the
	// miner is held to (0: none).
	Threads  int
	Hashrate float64
	// Validators: the keys the node signs with (the first is its own) and
	// the fork-choice rule ("" for the engine's default).
	Keys       []*ecdsa.PrivateKey
	ForkChoice string
}

// table lists the engines chaind runs; the first is the default.
var table = []Engine{
	{Name: chain.ConsensusPoW, Summary: "proof of work (Nakamoto consensus)", Producers: Miners,
		TestnetFlags: []string{"hashpower", "hashrate"}, Section: powSection, New: newPoW},
	{Name: chain.ConsensusPoS, Summary: "longest-chain proof of stake with a finality gadget", Producers: Validators,
		TestnetFlags: []string{"stakes", "epoch-length", "finality", "byzantine"}, Section: posSection, New: newPoS},
	{Name: bftchain.Name, Summary: "Tendermint BFT: final at once, halts rather than forks", Producers: Validators,
		TestnetFlags: []string{"stakes"}, Section: bftSection, New: newBFT, Producer: newBFTProducer},
}

// All returns the table, the default engine first.
func All() []Engine { return table }

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

func newPoW(_ *chain.Genesis, o Options) (chain.Engine, error) {
	return pow.NewEngine(pow.EngineConfig{Threads: o.Threads, Hashrate: o.Hashrate, Clock: o.Clock}), nil
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

func newPoS(g *chain.Genesis, o Options) (chain.Engine, error) {
	var own *ecdsa.PrivateKey
	if len(o.Keys) > 0 {
		own = o.Keys[0]
	}
	e, err := pos.New(g, own, o.Clock.Now)
	if err != nil {
		return nil, err
	}
	for _, k := range o.Keys[min(1, len(o.Keys)):] {
		e.AddKey(k)
	}
	if err := e.SetForkChoice(o.ForkChoice); err != nil {
		return nil, err
	}
	return e, nil
}

func bftSection(s Spec) (chain.EngineConfig, error) {
	if s.Difficulty != nil || s.HalfLife != 0 || s.EpochLength != 0 || s.NoFinality {
		return nil, errors.New("bft has no difficulty, epochs, or finality to turn off")
	}
	c := &bftchain.GenesisConfig{}
	for _, v := range s.Validators {
		c.Validators = append(c.Validators, bftchain.GenesisValidator{Address: v.Address, Stake: chain.NewBigInt(new(big.Int).Set(v.Stake))})
	}
	return c, nil
}

func newBFT(g *chain.Genesis, _ Options) (chain.Engine, error) { return bftchain.New(g) }

// newBFTProducer starts a height when transactions wait or a block time
// has passed since the head.
func newBFTProducer(c ProducerConfig) (Producer, error) {
	e, ok := c.Chain.Engine().(*bftchain.Engine)
	if !ok {
		return nil, fmt.Errorf("bft producer on a chain of %T", c.Chain.Engine())
	}
	p, err := bftchain.NewProducer(bftchain.ProducerConfig{Chain: c.Chain, Engine: e, Txs: c.Txs, Key: c.Key, Dir: c.Dir,
		Gossip: c.Gossip, Clock: c.Clock, Logger: c.Logger, Period: c.Chain.Genesis().BlockTime.D()})
	if err != nil {
		return nil, err // not a nil *Producer in a non-nil Producer
	}
	return p, nil
}
