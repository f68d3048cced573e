package p2p

import (
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Chain is what the server reads from and writes to the chain; *chain.Chain
// implements it.
type Chain interface {
	Genesis() *chain.Genesis
	GenesisHeader() *chain.Header
	Head() *chain.Block
	HeadWeight() *big.Int
	GetHeader(hash common.Hash) *chain.Header
	BlockByHash(hash common.Hash) (*chain.Block, error)
	Weight(hash common.Hash) (*big.Int, error)
	// Locator and HeadersAfter serve headers-first sync.
	Locator() []common.Hash
	HeadersAfter(locator []common.Hash, max int) ([]*chain.Header, error)
	// VerifyHeaders checks linked headers whose first parent is stored and
	// returns the branch's weight; InsertBlock validates and stores a block.
	VerifyHeaders(headers []*chain.Header) (*big.Int, error)
	InsertBlock(b *chain.Block) error
	// Subscribe calls fn on every head change.
	Subscribe(fn func(chain.HeadEvent))
}

// Pool is what the server needs of the transaction pool; *mempool.Pool
// implements it.
type Pool interface {
	Get(hash common.Hash) *types.Transaction
	Add(tx *types.Transaction) error
	Hashes() []common.Hash
	// SubscribeNewTxs calls fn with transactions newly admitted.
	SubscribeNewTxs(fn func([]*types.Transaction))
}
