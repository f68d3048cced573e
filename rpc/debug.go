package rpc

import (
	"context"
	"fmt"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// debugMethods are geth's raw readers: the consensus encodings of blocks,
// headers, transactions and receipts, which any Ethereum client decodes
// and checks against the block hash and the header's roots.
func (a *api) debugMethods() map[string]any {
	return map[string]any{
		"debug_getRawHeader": func(_ context.Context, ref BlockRef) (hexutil.Bytes, error) {
			b, err := a.rawLookup(ref)
			if b == nil || err != nil {
				return nil, err
			}
			return rlp.EncodeToBytes(b.Header.Ethereum())
		},
		"debug_getRawBlock": func(_ context.Context, ref BlockRef) (hexutil.Bytes, error) {
			b, err := a.rawLookup(ref)
			if b == nil || err != nil {
				return nil, err
			}
			return rlp.EncodeToBytes(types.NewBlockWithHeader(b.Header.Ethereum()).WithBody(types.Body{Transactions: b.Txs}))
		},
		"debug_getRawReceipts": func(_ context.Context, ref BlockRef) ([]hexutil.Bytes, error) {
			b, err := a.rawLookup(ref)
			if b == nil || err != nil {
				return nil, err
			}
			receipts := chain.Receipts(b.Txs)
			out := make([]hexutil.Bytes, len(receipts))
			for i, r := range receipts {
				if out[i], err = r.MarshalBinary(); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
		"debug_getRawTransaction": a.getRawTransactionByHash,
	}
}

// rawLookup finds the block ref names as geth's raw readers do: nothing
// for a number past the head (the readers answer "0x", the receipts null),
// an error for a hash the node does not have (any branch's block is found
// by its hash).
func (a *api) rawLookup(ref BlockRef) (*chain.Block, error) {
	b, err := a.lookup(ref)
	if b == nil && err == nil && ref.Hash != nil {
		return nil, fmt.Errorf("block %s not found", ref.Hash.Hex())
	}
	return b, err
}
