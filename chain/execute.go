package chain

import (
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// MaxTxSize bounds the encoding of one transaction.
const MaxTxSize = 32 << 10

// CheckTx applies the rules that need no state: type, replay protection, chain
// id, value transfer only (calldata only to the engine's system addresses),
// gas and fee bounds. It does not recover the sender.
func (c *Chain) CheckTx(tx *types.Transaction) error {
	g := c.genesis
	switch tx.Type() {
	case types.LegacyTxType, types.AccessListTxType, types.DynamicFeeTxType:
	default:
		return NewRuleError(ErrTxType, "type %d; chaind accepts legacy (0), access-list (1) and EIP-1559 (2) transactions", tx.Type())
	}
	if !tx.Protected() {
		return NewRuleError(ErrUnprotected, "legacy transactions must be signed with an EIP-155 chain id")
	}
	if tx.ChainId().Cmp(new(big.Int).SetUint64(g.ChainID)) != 0 {
		return NewRuleError(ErrWrongChainID, "transaction is for chain %v, this chain is %d", tx.ChainId(), g.ChainID)
	}
	if tx.Size() > MaxTxSize {
		return NewRuleError(ErrTxTooLarge, "%d bytes, limit %d", tx.Size(), MaxTxSize)
	}
	if tx.To() == nil {
		return NewRuleError(ErrContractCreation, "chaind executes value transfers only; a transaction needs a recipient")
	}
	if len(tx.AccessList()) > 0 || (len(tx.Data()) > 0 && !c.engine.SystemAddress(*tx.To())) {
		return NewRuleError(ErrCalldata, "chaind executes value transfers only; calldata and access lists must be empty (got %d bytes)", len(tx.Data()))
	}
	if tx.Gas() < TransferGas {
		return NewRuleError(ErrIntrinsicGas, "gas %d, a transfer needs %d", tx.Gas(), TransferGas)
	}
	if tx.Gas() > g.GasLimit {
		return NewRuleError(ErrGasLimit, "gas %d, block gas limit %d", tx.Gas(), g.GasLimit)
	}
	if tx.Value().BitLen() > 256 || tx.GasFeeCap().BitLen() > 256 || tx.GasTipCap().BitLen() > 256 {
		return NewRuleError(ErrValueTooLarge, "value and fees must fit in 256 bits")
	}
	if tx.GasTipCap().Cmp(tx.GasFeeCap()) > 0 {
		return NewRuleError(ErrTipAboveFeeCap, "tip %v, max fee %v", tx.GasTipCap(), tx.GasFeeCap())
	}
	if tx.GasFeeCap().Cmp(g.BaseFee.Big()) < 0 {
		return NewRuleError(ErrFeeCapTooLow, "max fee %v, base fee %v", tx.GasFeeCap(), g.BaseFee.Big())
	}
	return nil
}

// Sender recovers tx's sender, caching it in tx so that later calls with the
// same signer are free.
func (g *Genesis) Sender(tx *types.Transaction) (common.Address, error) {
	from, err := types.Sender(g.Signer(), tx)
	if err != nil {
		return common.Address{}, NewRuleError(ErrBadSignature, "%v", err)
	}
	return from, nil
}

// RecoverSenders recovers (and caches in each transaction) the senders of txs
// on all cores. Errors are left for execution to report.
func (g *Genesis) RecoverSenders(txs []*types.Transaction) {
	workers := min(runtime.GOMAXPROCS(0), len(txs)/16)
	if workers < 2 {
		return
	}
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(len(txs)); i = next.Add(1) - 1 {
				g.Sender(txs[i])
			}
		}()
	}
	wg.Wait()
}

// EffectiveGasPrice is what tx pays per gas under the chain's base fee:
// min(max fee, base fee + tip).
func (g *Genesis) EffectiveGasPrice(tx *types.Transaction) *big.Int {
	p := new(big.Int).Add(g.BaseFee.Big(), tx.GasTipCap())
	if p.Cmp(tx.GasFeeCap()) > 0 {
		p.Set(tx.GasFeeCap())
	}
	return p
}

// EffectiveTip is what tx pays its producer per gas above the base fee.
func (g *Genesis) EffectiveTip(tx *types.Transaction) *big.Int {
	return new(big.Int).Sub(g.EffectiveGasPrice(tx), g.BaseFee.Big())
}

// MaxCost is the balance a sender needs up front: value + gas limit x max fee.
func MaxCost(tx *types.Transaction) *big.Int {
	c := new(big.Int).Mul(new(big.Int).SetUint64(tx.Gas()), tx.GasFeeCap())
	return c.Add(c, tx.Value())
}

// applyTx executes one transfer on st, paying the fee to h's producer.
func (c *Chain) applyTx(st *State, h *Header, tx *types.Transaction) error {
	g := c.genesis
	if err := c.CheckTx(tx); err != nil {
		return err
	}
	from, err := g.Sender(tx)
	if err != nil {
		return err
	}
	sender, _ := st.Get(from)
	switch {
	case tx.Nonce() < sender.Nonce:
		return NewRuleError(ErrNonceTooLow, "address %s: next nonce %d, tx nonce %d", from.Hex(), sender.Nonce, tx.Nonce())
	case tx.Nonce() > sender.Nonce:
		return NewRuleError(ErrNonceTooHigh, "address %s: next nonce %d, tx nonce %d", from.Hex(), sender.Nonce, tx.Nonce())
	}
	if need := MaxCost(tx); sender.Balance.Cmp(need) < 0 {
		return NewRuleError(ErrInsufficientFunds, "address %s: balance %v, need %v", from.Hex(), sender.Balance, need)
	}
	fee := new(big.Int).Mul(big.NewInt(TransferGas), g.EffectiveGasPrice(tx))
	sender.Balance = new(big.Int).Sub(sender.Balance, new(big.Int).Add(fee, tx.Value()))
	sender.Nonce++
	st.Set(from, sender)
	st.Credit(*tx.To(), tx.Value())
	st.Credit(h.Coinbase, fee)
	if c.engine.SystemAddress(*tx.To()) {
		return c.engine.ApplySystemTx(st, h, from, tx)
	}
	return nil
}

// engineStep wraps the error of one of the engine's state-transition hooks.
func engineStep(step string, h *Header, err error) error {
	if err == nil {
		return nil
	}
	if IsRuleError(err) {
		return fmt.Errorf("%w: %s: %w", ErrConsensus, step, err)
	}
	return fmt.Errorf("engine %s of block %d: %w", step, h.Height, err)
}

// applyBlock executes b's consensus body, transactions, the engine's state
// transition and the reward on st and checks the resulting state root. On
// error st is left partly changed: the caller reverts.
func (c *Chain) applyBlock(st *State, b *Block) error {
	if err := engineStep("begin", b.Header, c.engine.BeginBlock(c, st, b.Header)); err != nil {
		return err
	}
	if err := c.applyConsensus(st, b.Header, b.Consensus); err != nil {
		return err
	}
	for i, tx := range b.Txs {
		if err := c.applyTx(st, b.Header, tx); err != nil {
			return fmt.Errorf("%w: transaction %d (%s): %w", ErrInvalidTx, i, tx.Hash().Hex(), err)
		}
	}
	if err := engineStep("finalize", b.Header, c.engine.Finalize(c, st, b.Header)); err != nil {
		return err
	}
	if root := st.Root(); root != b.Header.StateRoot {
		return NewRuleError(ErrBadStateRoot, "block %d: header has %x, execution gives %x", b.Height(), b.Header.StateRoot, root)
	}
	return nil
}

// applyConsensus hands a block's consensus body to the engine's
// BodyTransition; an empty body needs none.
func (c *Chain) applyConsensus(st *State, h *Header, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	if c.body == nil {
		return NewRuleError(ErrConsensusBody, "block %d carries a consensus body of %d bytes", h.Height, len(body))
	}
	return engineStep("consensus body", h, c.body.ApplyConsensus(c, st, h, body))
}

// buildConsensus asks the engine for the consensus body of h, being built on
// st, and applies it.
func (c *Chain) buildConsensus(st *State, h *Header) ([]byte, error) {
	if c.body == nil {
		return nil, nil
	}
	body, err := c.body.BuildConsensus(c, st, h)
	if err != nil {
		return nil, fmt.Errorf("build consensus body: %w", err)
	}
	if len(body) > MaxConsensusSize {
		return nil, fmt.Errorf("build consensus body: %d bytes exceed %d", len(body), MaxConsensusSize)
	}
	if err := c.applyConsensus(st, h, body); err != nil {
		return nil, err
	}
	h.ConsensusRoot = ConsensusBodyRoot(body)
	return body, nil
}
