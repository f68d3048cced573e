package rpc

import (
	"context"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

func (a *api) txpoolMethods() map[string]any {
	return map[string]any{
		"txpool_status":  a.txpoolStatus,
		"txpool_content": a.txpoolContent,
	}
}

type txpoolStatusJSON struct {
	Pending hexutil.Uint `json:"pending"`
	Queued  hexutil.Uint `json:"queued"`
}

func (a *api) txpoolStatus(context.Context) (txpoolStatusJSON, error) {
	p, q := a.Pool.Status()
	return txpoolStatusJSON{Pending: hexutil.Uint(p), Queued: hexutil.Uint(q)}, nil
}

// txpoolContent answers like geth: {"pending": {addr: {nonce: tx}}, "queued": ...}.
func (a *api) txpoolContent(context.Context) (map[string]map[common.Address]map[string]map[string]any, error) {
	pending, queued := a.Pool.Content()
	group := func(in map[common.Address][]*types.Transaction) map[common.Address]map[string]map[string]any {
		out := make(map[common.Address]map[string]map[string]any, len(in))
		for from, txs := range in {
			out[from] = make(map[string]map[string]any, len(txs))
			for _, tx := range txs {
				out[from][strconv.FormatUint(tx.Nonce(), 10)] = a.formatTx(tx, nil)
			}
		}
		return out
	}
	return map[string]map[common.Address]map[string]map[string]any{
		"pending": group(pending),
		"queued":  group(queued),
	}, nil
}
