package rpc

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// defaultTip is the priority fee suggested when recent blocks carry no
// transactions to learn from.
var defaultTip = big.NewInt(1_000_000_000)

// callArgs is the transaction object of eth_estimateGas and eth_call.
type callArgs struct {
	From                 *common.Address `json:"from"`
	To                   *common.Address `json:"to"`
	Gas                  *hexutil.Uint64 `json:"gas"`
	GasPrice             *hexutil.Big    `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big    `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big    `json:"maxPriorityFeePerGas"`
	Value                *hexutil.Big    `json:"value"`
	Data                 *hexutil.Bytes  `json:"data"`
	Input                *hexutil.Bytes  `json:"input"`
}

func (a *api) ethMethods() map[string]any {
	return map[string]any{
		"eth_chainId": func(context.Context) (hexutil.Uint64, error) {
			return hexutil.Uint64(a.Chain.Genesis().ChainID), nil
		},
		"eth_blockNumber": func(context.Context) (hexutil.Uint64, error) {
			return hexutil.Uint64(a.Chain.Head().Height()), nil
		},
		"eth_syncing":  a.syncing,
		"eth_accounts": func(context.Context) ([]common.Address, error) { return []common.Address{}, nil },
		"eth_mining": func(context.Context) (bool, error) {
			return a.Miner != nil && a.Miner.Mining(), nil
		},
		"eth_hashrate": func(context.Context) (hexutil.Uint64, error) {
			if a.Miner == nil {
				return 0, nil
			}
			return hexutil.Uint64(a.Miner.Hashrate()), nil
		},
		"eth_coinbase": func(context.Context) (common.Address, error) {
			if a.Miner == nil {
				return common.Address{}, errors.New("this node does not mine")
			}
			return a.Miner.Coinbase(), nil
		},
		"eth_getBalance":            a.getBalance,
		"eth_getTransactionCount":   a.getTransactionCount,
		"eth_getCode":               a.getCode,
		"eth_gasPrice":              a.gasPrice,
		"eth_maxPriorityFeePerGas":  a.maxPriorityFeePerGas,
		"eth_feeHistory":            a.feeHistory,
		"eth_estimateGas":           a.estimateGas,
		"eth_call":                  a.call,
		"eth_sendRawTransaction":    a.sendRawTransaction,
		"eth_getTransactionByHash":  a.getTransactionByHash,
		"eth_getTransactionReceipt": a.getTransactionReceipt,
		"eth_getBlockByNumber":      a.getBlockByNumber,
		"eth_getBlockByHash":        a.getBlockByHash,
	}
}

// account reads addr at the block ref names.
func (a *api) account(addr common.Address, ref *BlockRef) (chain.Account, error) {
	if ref == nil || (ref.Hash == nil && (ref.Tag == "latest" || ref.Tag == "pending")) {
		return a.Chain.Account(addr), nil
	}
	b, err := a.resolve(ref)
	if err != nil {
		return chain.Account{}, blockError(err)
	}
	if !a.Chain.IsCanonical(b.Hash()) {
		return chain.Account{}, fmt.Errorf("block %x is not on the canonical chain; state is kept for canonical blocks only", b.Hash())
	}
	acc, err := a.Chain.AccountAt(addr, b.Height())
	if err != nil {
		return chain.Account{}, err
	}
	return acc, nil
}

func blockError(err error) error {
	if errors.Is(err, chain.ErrNotFound) {
		return &Error{Code: CodeServerError, Message: "block not found"}
	}
	return err
}

func (a *api) getBalance(_ context.Context, addr common.Address, ref *BlockRef) (*hexutil.Big, error) {
	acc, err := a.account(addr, ref)
	if err != nil {
		return nil, err
	}
	return (*hexutil.Big)(acc.Balance), nil
}

func (a *api) getTransactionCount(_ context.Context, addr common.Address, ref *BlockRef) (hexutil.Uint64, error) {
	if ref != nil && ref.Tag == "pending" {
		return hexutil.Uint64(a.Pool.PendingNonce(addr)), nil
	}
	acc, err := a.account(addr, ref)
	if err != nil {
		return 0, err
	}
	return hexutil.Uint64(acc.Nonce), nil
}

// getCode answers that no account has code: chaind has no contracts.
func (a *api) getCode(_ context.Context, _ common.Address, ref *BlockRef) (hexutil.Bytes, error) {
	if _, err := a.resolve(ref); err != nil {
		return nil, blockError(err)
	}
	return hexutil.Bytes{}, nil
}

// suggestTip is the 60th percentile of the effective tips in the last 20
// blocks, or defaultTip when they carried no transactions; it is computed
// once per head.
func (a *api) suggestTip() *big.Int {
	head := a.Chain.Head()
	a.tipMu.Lock()
	defer a.tipMu.Unlock()
	if a.tipHead != head.Hash() || a.tip == nil {
		a.tip, a.tipHead = a.computeTip(head), head.Hash()
	}
	return new(big.Int).Set(a.tip)
}

// computeTip reads the tips of the 20 blocks up to head.
func (a *api) computeTip(head *chain.Block) *big.Int {
	g := a.Chain.Genesis()
	var tips []*big.Int
	for h, n := head.Height(), 0; n < 20; h, n = h-1, n+1 {
		b, err := a.Chain.BlockByHeight(h)
		if err != nil {
			break
		}
		for _, tx := range b.Txs {
			tips = append(tips, g.EffectiveTip(tx))
		}
		if h == 0 {
			break
		}
	}
	if len(tips) == 0 {
		return new(big.Int).Set(defaultTip)
	}
	slices.SortFunc(tips, func(x, y *big.Int) int { return x.Cmp(y) })
	return tips[len(tips)*60/100]
}

func (a *api) gasPrice(context.Context) (*hexutil.Big, error) {
	p := new(big.Int).Add(a.Chain.Genesis().BaseFee.Big(), a.suggestTip())
	return (*hexutil.Big)(p), nil
}

func (a *api) maxPriorityFeePerGas(context.Context) (*hexutil.Big, error) {
	return (*hexutil.Big)(a.suggestTip()), nil
}

type feeHistoryJSON struct {
	OldestBlock   hexutil.Uint64   `json:"oldestBlock"`
	BaseFeePerGas []*hexutil.Big   `json:"baseFeePerGas"`
	GasUsedRatio  []float64        `json:"gasUsedRatio"`
	Reward        [][]*hexutil.Big `json:"reward,omitempty"`
}

// maxFeeHistory bounds the block count of eth_feeHistory.
const maxFeeHistory = 1024

func (a *api) feeHistory(_ context.Context, count hexutil.Uint64, newest BlockRef, percentiles []float64) (*feeHistoryJSON, error) {
	if count == 0 || count > maxFeeHistory {
		return nil, invalidParams("block count must be between 1 and %d", maxFeeHistory)
	}
	for i, p := range percentiles {
		if p < 0 || p > 100 || (i > 0 && p < percentiles[i-1]) {
			return nil, invalidParams("reward percentiles must be increasing values in [0, 100]")
		}
	}
	last, err := a.resolve(&newest)
	if err != nil {
		return nil, blockError(err)
	}
	g := a.Chain.Genesis()
	first := uint64(0)
	if last.Height()+1 > uint64(count) {
		first = last.Height() + 1 - uint64(count)
	}
	out := &feeHistoryJSON{OldestBlock: hexutil.Uint64(first)}
	for h := first; h <= last.Height(); h++ {
		b, err := a.Chain.BlockByHeight(h)
		if err != nil {
			return nil, blockError(err)
		}
		out.BaseFeePerGas = append(out.BaseFeePerGas, (*hexutil.Big)(g.BaseFee.Big()))
		out.GasUsedRatio = append(out.GasUsedRatio, float64(b.Header.GasUsed)/float64(g.GasLimit))
		if len(percentiles) > 0 {
			out.Reward = append(out.Reward, rewardPercentiles(g, b, percentiles))
		}
	}
	out.BaseFeePerGas = append(out.BaseFeePerGas, (*hexutil.Big)(g.BaseFee.Big())) // the next block's
	return out, nil
}

// rewardPercentiles returns the effective tips at the given percentiles of
// the block's gas; every transaction uses the same gas.
func rewardPercentiles(g *chain.Genesis, b *chain.Block, percentiles []float64) []*hexutil.Big {
	out := make([]*hexutil.Big, len(percentiles))
	tips := make([]*big.Int, len(b.Txs))
	for i, tx := range b.Txs {
		tips[i] = g.EffectiveTip(tx)
	}
	slices.SortFunc(tips, func(x, y *big.Int) int { return x.Cmp(y) })
	for i, p := range percentiles {
		if len(tips) == 0 {
			out[i] = (*hexutil.Big)(new(big.Int))
			continue
		}
		idx := min(int(p/100*float64(len(tips))), len(tips)-1)
		out[i] = (*hexutil.Big)(tips[idx])
	}
	return out
}

// errTransfersOnly explains what chaind cannot execute.
func errTransfersOnly(what string) error {
	return &Error{Code: CodeServerError, Message: what + ": chaind executes value transfers only (no contracts, no calldata)"}
}

func (a *api) estimateGas(_ context.Context, args callArgs, _ *BlockRef) (hexutil.Uint64, error) {
	if args.To == nil {
		return 0, errTransfersOnly("contract creation is not supported")
	}
	if (args.Data != nil && len(*args.Data) > 0) || (args.Input != nil && len(*args.Input) > 0) {
		return 0, errTransfersOnly("calldata is not supported")
	}
	if args.From != nil && args.Value != nil {
		if bal := a.Chain.Account(*args.From).Balance; bal.Cmp(args.Value.ToInt()) < 0 {
			return 0, fmt.Errorf("%w: address %s has %v, value %v", chain.ErrInsufficientFunds, args.From.Hex(), bal, args.Value.ToInt())
		}
	}
	return chain.TransferGas, nil
}

func (a *api) call(context.Context, callArgs, *BlockRef) (hexutil.Bytes, error) {
	return nil, errTransfersOnly("eth_call is not supported")
}

func (a *api) sendRawTransaction(_ context.Context, raw hexutil.Bytes) (common.Hash, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(raw); err != nil {
		return common.Hash{}, &Error{Code: CodeInvalidParams, Message: "invalid params: cannot decode transaction: " + err.Error()}
	}
	if err := a.Pool.Add(tx); err != nil {
		return common.Hash{}, &Error{Code: CodeServerError, Message: err.Error()}
	}
	return tx.Hash(), nil
}

func (a *api) getTransactionByHash(_ context.Context, hash common.Hash) (map[string]any, error) {
	tx, loc, err := a.Chain.Tx(hash)
	if err == nil {
		return a.formatTx(tx, &loc), nil
	}
	if !errors.Is(err, chain.ErrNotFound) {
		return nil, err
	}
	if tx := a.Pool.Get(hash); tx != nil {
		return a.formatTx(tx, nil), nil
	}
	return nil, nil
}

func (a *api) getTransactionReceipt(_ context.Context, hash common.Hash) (*receiptJSON, error) {
	tx, loc, err := a.Chain.Tx(hash)
	if errors.Is(err, chain.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return a.formatReceipt(tx, loc), nil
}

func (a *api) getBlockByNumber(_ context.Context, ref BlockRef, fullTx *bool) (*blockJSON, error) {
	b, err := a.resolve(&ref)
	if errors.Is(err, chain.ErrNotFound) || errors.Is(err, errNoFinality) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return a.formatBlock(b, fullTx != nil && *fullTx)
}

func (a *api) getBlockByHash(_ context.Context, hash common.Hash, fullTx *bool) (*blockJSON, error) {
	b, err := a.Chain.BlockByHash(hash)
	if errors.Is(err, chain.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return a.formatBlock(b, fullTx != nil && *fullTx)
}
