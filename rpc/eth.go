package rpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
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
		"eth_syncing": a.syncing,
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
		"eth_getBalance":              a.getBalance,
		"eth_getTransactionCount":     a.getTransactionCount,
		"eth_getCode":                 a.getCode,
		"eth_getProof":                a.getProof,
		"eth_gasPrice":                a.gasPrice,
		"eth_maxPriorityFeePerGas":    a.maxPriorityFeePerGas,
		"eth_feeHistory":              a.feeHistory,
		"eth_estimateGas":             a.estimateGas,
		"eth_call":                    a.call,
		"eth_sendRawTransaction":      a.sendRawTransaction,
		"eth_getTransactionByHash":    a.getTransactionByHash,
		"eth_getTransactionReceipt":   a.getTransactionReceipt,
		"eth_getRawTransactionByHash": a.getRawTransactionByHash,
		"eth_getBlockByNumber":        a.getBlockByNumber,
		"eth_getBlockByHash":          a.getBlockByHash,
	}
}

// prepareRawTransactions is eth_sendRawTransaction's Preparer: it decodes
// the transactions of a batch's calls and has the pool recover their
// senders on all cores, so that a batch's recoveries do not wait for one
// another. A call whose params do not decode is left to its handler.
func (a *api) prepareRawTransactions(params []json.RawMessage) []any {
	out := make([]any, len(params))
	txs := make([]*types.Transaction, 0, len(params))
	for i, p := range params {
		raw, ok := oneHexParam(p)
		if !ok {
			continue
		}
		tx := new(types.Transaction)
		if tx.UnmarshalBinary(raw) != nil {
			continue
		}
		out[i] = tx
		txs = append(txs, tx)
	}
	a.Pool.Prepare(txs)
	return out
}

// oneHexParam decodes params of the form ["0x<hex>"], what every client
// sends to eth_sendRawTransaction, without a JSON decoder; ok is false for
// any other form, which the call's own decoding then handles.
func oneHexParam(params json.RawMessage) (raw []byte, ok bool) {
	p := bytes.TrimSpace(params)
	if !bytes.HasPrefix(p, []byte(`["0x`)) || !bytes.HasSuffix(p, []byte(`"]`)) {
		return nil, false
	}
	digits := p[4 : len(p)-2]
	raw = make([]byte, hex.DecodedLen(len(digits)))
	if _, err := hex.Decode(raw, digits); err != nil {
		return nil, false
	}
	return raw, true
}

// account reads addr at the block ref names.
func (a *api) account(addr common.Address, ref *BlockRef) (chain.Account, error) {
	if ref == nil || (ref.Hash == nil && (ref.Tag == "latest" || ref.Tag == "pending")) {
		return a.Chain.Account(addr), nil
	}
	h, err := a.resolveHeader(ref)
	if err != nil {
		return chain.Account{}, blockError(err)
	}
	if !a.Chain.IsCanonical(h.Hash()) {
		return chain.Account{}, fmt.Errorf("block %x is not on the canonical chain; state is kept for canonical blocks only", h.Hash())
	}
	acc, err := a.Chain.AccountIn(addr, h)
	if err != nil {
		return chain.Account{}, err
	}
	return acc, nil
}

func blockError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, chain.ErrNotFound) {
		return newError(CodeServerError, KindNotFound, "block not found")
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

// Bounds of eth_feeHistory, as geth sets them: a longer span is cut to the
// newest maxFeeHistory blocks; more percentiles are refused.
const (
	maxFeeHistory            = 1024
	maxFeeHistoryPercentiles = 100
)

// feeHistory takes the block count as geth does: a hex or decimal string,
// or a JSON number.
func (a *api) feeHistory(ctx context.Context, count math.HexOrDecimal64, newest BlockRef, optPercentiles *[]float64) (*feeHistoryJSON, error) {
	var percentiles []float64
	if optPercentiles != nil {
		percentiles = *optPercentiles
	}
	if count == 0 { // geth answers an empty history
		return &feeHistoryJSON{}, nil
	}
	count = min(count, maxFeeHistory)
	if len(percentiles) > maxFeeHistoryPercentiles {
		return nil, invalidParams("invalid reward percentile: over the query limit %d", maxFeeHistoryPercentiles)
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
		if err := ctx.Err(); err != nil {
			return nil, newError(CodeServerError, KindLimit, "eth_feeHistory: out of time: "+err.Error())
		}
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

// errNoCode refuses a call or an estimate that would need code to run:
// chaind has no contracts. The text starts "execution reverted", which
// ethers, viem and web3.js report as a failed call (CALL_EXCEPTION,
// ExecutionRevertedError).
func errNoCode(what string) error {
	return newError(CodeReverted, KindUnsupported, "execution reverted: "+what+": chaind executes value transfers only (no contracts, no calldata)")
}

// checkCall is what eth_call and eth_estimateGas check: a recipient, no
// calldata for an estimate, the block, and the sender's funds for value.
func (a *api) checkCall(args *callArgs, ref *BlockRef, estimate bool) error {
	data := args.Data
	if data == nil {
		data = args.Input
	}
	hasData := data != nil && len(*data) > 0
	if args.To == nil && (estimate || hasData) {
		return errNoCode("contract creation is not supported")
	}
	if estimate && hasData {
		return errNoCode("calldata is not supported")
	}
	if args.From == nil || args.Value == nil {
		_, err := a.resolve(ref)
		return blockError(err)
	}
	acc, err := a.account(*args.From, ref)
	if err != nil {
		return err
	}
	if acc.Balance.Cmp(args.Value.ToInt()) < 0 {
		return newError(CodeServerError, string(chain.ErrInsufficientFunds), fmt.Sprintf("%v: address %s have %v want %v",
			chain.ErrInsufficientFunds, args.From.Hex(), acc.Balance, args.Value.ToInt()))
	}
	return nil
}

// estimateGas answers 21000 for a transfer, the only transaction chaind runs.
func (a *api) estimateGas(_ context.Context, args callArgs, ref *BlockRef) (hexutil.Uint64, error) {
	if err := a.checkCall(&args, ref, true); err != nil {
		return 0, err
	}
	return chain.TransferGas, nil
}

// call answers "0x", as geth does for a call to an account without code:
// no account on chaind has code.
func (a *api) call(_ context.Context, args callArgs, ref *BlockRef) (hexutil.Bytes, error) {
	if err := a.checkCall(&args, ref, false); err != nil {
		return nil, err
	}
	return hexutil.Bytes{}, nil
}

func (a *api) sendRawTransaction(ctx context.Context, raw hexutil.Bytes) (common.Hash, error) {
	tx, _ := prepared(ctx).(*types.Transaction) // decoded from this call's raw by prepareRawTransactions
	if tx == nil {
		tx = new(types.Transaction)
		if err := tx.UnmarshalBinary(raw); err != nil {
			return common.Hash{}, invalidParams("cannot decode transaction: %v", err)
		}
	}
	if err := a.Pool.Add(tx); err != nil {
		e := txError(err)
		if len(tx.AccessList()) > 0 && len(tx.Data()) == 0 && errors.Is(err, chain.ErrCalldata) {
			e.Message = "transaction rejected: access lists are not supported: chaind executes value transfers only"
		}
		return common.Hash{}, e
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

// getRawTransactionByHash answers the signed transaction's encoding, from
// the chain or the pool, or null.
func (a *api) getRawTransactionByHash(_ context.Context, hash common.Hash) (hexutil.Bytes, error) {
	tx, _, err := a.Chain.Tx(hash)
	if errors.Is(err, chain.ErrNotFound) {
		tx, err = a.Pool.Get(hash), nil
	}
	if err != nil || tx == nil {
		return nil, err
	}
	return tx.MarshalBinary()
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

// CodeTxRejected is EIP-1474's code for a transaction the node refuses by
// design; viem reports it as TransactionRejectedRpcError.
const CodeTxRejected = -32003

// txError words a refused transaction so that clients map it: the chain's
// message for the usual refusals (nonce, funds, price), geth's text for an
// unprotected legacy transaction, and EIP-1474's "transaction rejected"
// for what chaind cannot run.
func txError(err error) *Error {
	e := toError(err)
	var kind chain.ErrorKind
	if !errors.As(err, &kind) {
		return e
	}
	switch kind {
	case chain.ErrUnprotected:
		e.Message = "only replay-protected (EIP-155) transactions allowed over RPC"
	case chain.ErrCalldata, chain.ErrContractCreation, chain.ErrTxType:
		e.Code, e.Message = CodeTxRejected, "transaction rejected: "+err.Error()
	}
	return e
}
