package rpc

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// The methods that look into a block by number or hash and index, answering
// null for a block that does not exist, as geth does.
func (a *api) blockIndexMethods() map[string]any {
	byHash := func(h common.Hash) BlockRef { return BlockRef{Hash: &h} }
	return map[string]any{
		"eth_getBlockTransactionCountByNumber": a.txCount,
		"eth_getBlockTransactionCountByHash": func(ctx context.Context, h common.Hash) (*hexutil.Uint, error) {
			return a.txCount(ctx, byHash(h))
		},
		"eth_getTransactionByBlockNumberAndIndex": a.txByIndex,
		"eth_getTransactionByBlockHashAndIndex": func(ctx context.Context, h common.Hash, i hexutil.Uint) (map[string]any, error) {
			return a.txByIndex(ctx, byHash(h), i)
		},
		"eth_getUncleCountByBlockNumber": a.uncleCount,
		"eth_getUncleCountByBlockHash": func(ctx context.Context, h common.Hash) (*hexutil.Uint, error) {
			return a.uncleCount(ctx, byHash(h))
		},
		"eth_getUncleByBlockNumberAndIndex": a.uncleByIndex,
		"eth_getUncleByBlockHashAndIndex": func(ctx context.Context, h common.Hash, i hexutil.Uint) (map[string]any, error) {
			return a.uncleByIndex(ctx, byHash(h), i)
		},
		"eth_getHeaderByNumber": func(_ context.Context, ref BlockRef) (*headerJSON, error) {
			b, err := a.lookup(ref)
			if b == nil || err != nil {
				return nil, err
			}
			return a.formatHeader(b)
		},
		"eth_getHeaderByHash": func(_ context.Context, h common.Hash) (*headerJSON, error) {
			b, err := a.lookup(byHash(h))
			if b == nil || err != nil {
				return nil, err
			}
			return a.formatHeader(b)
		},
		"eth_getBlockReceipts": a.blockReceipts,
		"eth_getStorageAt":     a.getStorageAt,
	}
}

// lookup finds the block ref names, or nil (no error) if there is none.
func (a *api) lookup(ref BlockRef) (*chain.Block, error) {
	b, err := a.resolve(&ref)
	if errors.Is(err, chain.ErrNotFound) || errors.Is(err, errNoFinality) {
		return nil, nil
	}
	return b, err
}

func (a *api) txCount(_ context.Context, ref BlockRef) (*hexutil.Uint, error) {
	b, err := a.lookup(ref)
	if b == nil || err != nil {
		return nil, err
	}
	n := hexutil.Uint(len(b.Txs))
	return &n, nil
}

func (a *api) txByIndex(_ context.Context, ref BlockRef, i hexutil.Uint) (map[string]any, error) {
	b, err := a.lookup(ref)
	if b == nil || err != nil || int(i) >= len(b.Txs) {
		return nil, err
	}
	return a.formatTx(b.Txs[i], &chain.TxLocation{Block: b, Index: int(i)}), nil
}

// uncleCount is 0 for every block: neither engine has uncles.
func (a *api) uncleCount(_ context.Context, ref BlockRef) (*hexutil.Uint, error) {
	b, err := a.lookup(ref)
	if b == nil || err != nil {
		return nil, err
	}
	n := hexutil.Uint(0)
	return &n, nil
}

func (a *api) uncleByIndex(_ context.Context, ref BlockRef, _ hexutil.Uint) (map[string]any, error) {
	_, err := a.lookup(ref)
	return nil, err
}

func (a *api) blockReceipts(_ context.Context, ref BlockRef) ([]*receiptJSON, error) {
	b, err := a.lookup(ref)
	if b == nil || err != nil {
		return nil, err
	}
	out := make([]*receiptJSON, len(b.Txs))
	for i, tx := range b.Txs {
		out[i] = a.formatReceipt(tx, chain.TxLocation{Block: b, Index: i})
	}
	return out, nil
}

// getStorageAt answers 32 zero bytes: no account on chaind has storage.
func (a *api) getStorageAt(_ context.Context, _ common.Address, slot string, ref *BlockRef) (hexutil.Bytes, error) {
	// Like geth, take the slot as hex with or without 0x, of any length up
	// to 32 bytes.
	digits := strings.TrimPrefix(strings.TrimPrefix(slot, "0x"), "0X")
	if len(digits)%2 == 1 {
		digits = "0" + digits
	}
	if _, err := hex.DecodeString(digits); err != nil || len(digits) > 64 {
		return nil, invalidParams("storage slot %q: want hex of at most 32 bytes", slot)
	}
	if _, err := a.resolve(ref); err != nil {
		return nil, blockError(err)
	}
	return make(hexutil.Bytes, 32), nil
}
