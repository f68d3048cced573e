package chain

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// ChainReader is the read-only view of the chain that engines get.
type ChainReader interface {
	// Genesis returns the chain parameters.
	Genesis() *Genesis
	// GenesisHeader returns the header of block 0.
	GenesisHeader() *Header
	// GetHeader returns the stored header with the given hash, or nil;
	// while a batch of headers is verified, the batch's headers too.
	GetHeader(hash common.Hash) *Header
	// CurrentHeader returns the head's header.
	CurrentHeader() *Header
}

// Engine is a consensus engine: it fills in, checks and seals the consensus
// fields of headers, and says how much each block weighs in fork choice.
type Engine interface {
	// VerifyHeader checks h's consensus fields and seal against its parent.
	VerifyHeader(c ChainReader, h, parent *Header) error
	// Prepare fills the consensus fields of a new header built on parent.
	Prepare(c ChainReader, h, parent *Header) error
	// Seal makes b final (PoW: finds a nonce). It returns ctx.Err() when ctx
	// is cancelled first.
	Seal(ctx context.Context, c ChainReader, b *Block) (*Block, error)
	// Weight is what h adds to its branch in fork choice.
	Weight(h *Header) *big.Int
}

// Finalizer is implemented by engines that finalize blocks. The chain keeps
// the highest block a Finalizer reported on any adopted head as the node's
// finalized checkpoint (stored, never moved back), and fork choice never
// considers a branch without it. Engines without it (PoW) finalize nothing.
type Finalizer interface {
	// Finalized returns the hash of the latest finalized block recorded in
	// st (the head state), or the zero hash.
	Finalized(st *State) common.Hash
	// Safe returns the latest justified block in st, or the zero hash.
	Safe(st *State) common.Hash
}
