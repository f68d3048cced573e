package chain

import (
	"context"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
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
// fields of headers, says how much each block weighs in fork choice, and
// owns its part of the state transition (go-ethereum's consensus.Engine is
// the model). The chain names no consensus concept: whatever an engine keeps
// in the state (proof of stake: stakes, checkpoints, vote tallies) it keeps
// in its own records (State.Record), which the state root commits to and
// undo records roll back, apart from the accounts that clients read.
type Engine interface {
	// InitGenesis fills the engine's part of the genesis block: header
	// fields (PoW: the first target) and initial records and balances
	// (PoS: the validators' stakes and the escrow holding them).
	InitGenesis(g *Genesis, h *Header, st *State)
	// VerifyHeader checks h's consensus fields and seal against its parent.
	VerifyHeader(c ChainReader, h, parent *Header) error
	// Prepare fills the consensus fields of a new header built on parent.
	Prepare(c ChainReader, h, parent *Header) error
	// Seal makes b final (PoW: finds a nonce). It returns ctx.Err() when ctx
	// is cancelled first.
	Seal(ctx context.Context, c ChainReader, b *Block) (*Block, error)
	// Weight is what h adds to its branch in fork choice.
	Weight(h *Header) *big.Int
	StateTransition
}

// StateTransition is an engine's part of executing a block. The chain calls
// it on every path that executes one: building, importing and replaying,
// with its write lock held: c never takes the chain's lock.
// Errors that are rule errors (NewRuleError) make the block invalid; any
// other error is a local failure and the block may come again.
type StateTransition interface {
	// BeginBlock applies the engine's transition for h before its
	// transactions, so that its rules see the state h was built on.
	BeginBlock(c ChainReader, st *State, h *Header) error
	// SystemAddress reports whether transactions to addr are calls to the
	// engine: they may carry calldata, and ApplySystemTx applies them.
	SystemAddress(addr common.Address) bool
	// ApplySystemTx applies tx, sent by from to a system address, after
	// its fee and value were paid.
	ApplySystemTx(st *State, h *Header, from common.Address, tx *types.Transaction) error
	// Finalize applies the end of h's transition, after its transactions:
	// the block reward.
	Finalize(c ChainReader, st *State, h *Header) error
}

// BodyTransition is implemented by engines whose blocks carry a consensus
// body (Block.Consensus): messages of the consensus protocol itself, such
// as proof-of-stake votes and evidence, that are not account transactions
// and so pay no fee and use no nonce (the beacon block body is the model).
// The chain never reads the body: it checks it against the header's
// ConsensusRoot and hands it to the engine. Blocks of an engine without it
// must have an empty body.
type BodyTransition interface {
	// BuildConsensus returns the consensus body of the block h being built,
	// with st the state after BeginBlock; the chain then applies it with
	// ApplyConsensus, so a body the engine builds must be one it applies.
	BuildConsensus(c ChainReader, st *State, h *Header) ([]byte, error)
	// ApplyConsensus applies body, h's consensus body, to st after
	// BeginBlock and before h's transactions. It is called on every path
	// that executes a block (building, importing, replaying) with the
	// chain's write lock held, as StateTransition's hooks are. A body it
	// refuses makes the block invalid when the error is a rule error.
	ApplyConsensus(c ChainReader, st *State, h *Header, body []byte) error
}

// ProofVerifier is implemented by engines whose blocks are final by a proof
// that is not part of the block's hash (BFT: the commit, more than 2/3 of
// the stake's precommits, which two nodes may hold different quorums of).
// The chain imports a block only with a proof VerifyProof accepts, keeps it
// beside the block (Block.Proof) and sends it with the block; a refused
// proof does not make the block invalid, which may come again with another.
// Blocks of an engine without it must have no proof.
type ProofVerifier interface {
	// VerifyProof checks that proof shows h final.
	VerifyProof(c ChainReader, h *Header, proof []byte) error
}

// SealBounder is implemented by engines whose seal may be longer than
// DefaultSealSize (a BFT commit: one signature per precommit). The chain
// refuses a header whose seal exceeds its engine's bound before the engine
// sees it; no bound exceeds MaxSealSize, which the decoder enforces.
type SealBounder interface {
	// MaxSealSize is the longest seal of the engine's headers.
	MaxSealSize() int
}

// SealLimit is e's bound on a seal: its own (SealBounder) up to
// MaxSealSize, else DefaultSealSize.
func SealLimit(e Engine) int {
	if b, ok := e.(SealBounder); ok {
		return min(b.MaxSealSize(), MaxSealSize)
	}
	return DefaultSealSize
}

// NoSystemCalls is embedded by engines that take no calls from transactions
// and change no state before a block's transactions (proof of work).
type NoSystemCalls struct{}

// BeginBlock changes nothing.
func (NoSystemCalls) BeginBlock(ChainReader, *State, *Header) error { return nil }

// SystemAddress is false for every address.
func (NoSystemCalls) SystemAddress(common.Address) bool { return false }

// ApplySystemTx is never called: no address is a system address.
func (NoSystemCalls) ApplySystemTx(_ *State, _ *Header, _ common.Address, tx *types.Transaction) error {
	return NewRuleError(ErrCalldata, "this engine takes no calls (transaction %s)", tx.Hash().Hex())
}

// Finalizer is implemented by engines that finalize blocks. The chain keeps
// the highest block a Finalizer reported on any adopted head as the node's
// finalized checkpoint (stored, never moved back), and fork choice never
// considers a branch without it. Engines without it (PoW) finalize nothing.
type Finalizer interface {
	// Finalized returns the hash of the latest finalized block recorded in
	// st, the state of head, or the zero hash. An engine whose blocks are
	// final once they exist (BFT) returns head's hash, which its own state
	// cannot name.
	Finalized(head *Header, st *State) common.Hash
	// Safe returns the latest justified block in st (head's state), or the
	// zero hash.
	Safe(head *Header, st *State) common.Hash
}
