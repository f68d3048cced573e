package rpc

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

func (a *api) txpoolMethods() map[string]any {
	return map[string]any{
		"txpool_status":      a.txpoolStatus,
		"txpool_content":     a.txpoolContent,
		"txpool_contentFrom": a.txpoolContentFrom,
		"txpool_inspect":     a.txpoolInspect,
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
	return poolView(a.Pool.Content, func(tx *types.Transaction) map[string]any { return a.formatTx(tx, nil) }), nil
}

// txpoolContentFrom is txpool_content for one sender: {"pending": {nonce: tx}, "queued": ...}.
func (a *api) txpoolContentFrom(_ context.Context, from common.Address) (map[string]map[string]map[string]any, error) {
	all := poolView(a.Pool.Content, func(tx *types.Transaction) map[string]any { return a.formatTx(tx, nil) })
	out := make(map[string]map[string]map[string]any, 2)
	for state, bySender := range all {
		out[state] = bySender[from]
		if out[state] == nil {
			out[state] = map[string]map[string]any{}
		}
	}
	return out, nil
}

// txpoolInspect summarises each transaction in one line, as geth does:
// "TO: VALUE wei + GAS gas × PRICE wei".
func (a *api) txpoolInspect(context.Context) (map[string]map[common.Address]map[string]string, error) {
	return poolView(a.Pool.Content, func(tx *types.Transaction) string {
		to := "contract creation" // never admitted; worded as geth words it
		if tx.To() != nil {
			to = tx.To().Hex()
		}
		return fmt.Sprintf("%s: %v wei + %v gas × %v wei", to, tx.Value(), tx.Gas(), tx.GasFeeCap())
	}), nil
}

// poolView groups the pool's transactions as geth's txpool methods do:
// state ("pending", "queued"), then sender, then decimal nonce.
func poolView[T any](content func() (pending, queued map[common.Address][]*types.Transaction), show func(*types.Transaction) T) map[string]map[common.Address]map[string]T {
	pending, queued := content()
	group := func(in map[common.Address][]*types.Transaction) map[common.Address]map[string]T {
		out := make(map[common.Address]map[string]T, len(in))
		for from, txs := range in {
			out[from] = make(map[string]T, len(txs))
			for _, tx := range txs {
				out[from][strconv.FormatUint(tx.Nonce(), 10)] = show(tx)
			}
		}
		return out
	}
	return map[string]map[common.Address]map[string]T{"pending": group(pending), "queued": group(queued)}
}
