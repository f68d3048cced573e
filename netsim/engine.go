package netsim

import (
	"bytes"
	"context"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pow"
)

// SimulatedWork is the seal of a block whose proof of work was simulated. A
// real node's PoW engine refuses every header that carries a seal, so such
// a block can never enter a real chain.
var SimulatedWork = []byte("chaind/netsim: simulated proof of work")

// ErrNotSimulated marks a header without the simulated-work seal.
const ErrNotSimulated = chain.ErrorKind("not a simulated-work block")

// engine is proof of work with the hashing simulated: the difficulty bits
// and the fork-choice weight are the real engine's; the seal is the marker.
type engine struct {
	chain.NoSystemCalls
	real *pow.Engine
}

var _ chain.Engine = engine{}

func (e engine) VerifyHeader(c chain.ChainReader, h, parent *chain.Header) error {
	if !bytes.Equal(h.Seal, SimulatedWork) {
		return chain.NewRuleError(ErrNotSimulated, "block %d", h.Height)
	}
	want, err := pow.BitsAfter(c, parent)
	if err != nil {
		return err
	}
	if h.Bits != want {
		return chain.NewRuleError(pow.ErrBadBits, "block %d has %08x, want %08x", h.Height, h.Bits, want)
	}
	return nil
}

func (e engine) Prepare(c chain.ChainReader, h, parent *chain.Header) error {
	return e.real.Prepare(c, h, parent)
}

// Seal marks the block as simulated work; the simulation decides when it
// was found.
func (engine) Seal(_ context.Context, _ chain.ChainReader, b *chain.Block) (*chain.Block, error) {
	return sealed(b), nil
}

func sealed(b *chain.Block) *chain.Block {
	h := b.Header.Copy()
	h.Seal = SimulatedWork
	return &chain.Block{Header: h, Txs: b.Txs, Consensus: b.Consensus}
}

func (e engine) Weight(h *chain.Header) *big.Int { return e.real.Weight(h) }

func (e engine) InitGenesis(g *chain.Genesis, h *chain.Header, st *chain.State) {
	e.real.InitGenesis(g, h, st)
}

func (e engine) Finalize(c chain.ChainReader, st *chain.State, h *chain.Header) error {
	return e.real.Finalize(c, st, h)
}
