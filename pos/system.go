package pos

import (
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// StakingAddress is the engine's system address: transactions to it carry
// calldata that the engine applies (chain.StateTransition's
// ApplySystemTx). It bonds the value sent to it as the sender's stake;
// calldata RLP(StakingCall) starts unbonding. Its balance is every bonded
// wei (the escrow). Staking is a transaction because it moves money; votes
// and evidence are consensus messages (body.go).
var StakingAddress = common.HexToAddress("0x0000000000000000000000000000000000005A6E")

// SystemAddress reports whether addr is the engine's system address.
func (e *Engine) SystemAddress(addr common.Address) bool { return addr == StakingAddress }

// CheckSystemTx is the intake check of a call to the system address: it
// applies, against st (the head state), the checks that would make the call
// fail in a block (a staker that was slashed, calldata that is no unbond,
// an unbond of stake the sender lacks), so that
// a mempool refuses what would never be mined and so never be paid for. It
// is nil for transactions to other addresses. A call it passes can still
// fail if the state changes before it is mined; the mempool asks again at
// every head change.
func (e *Engine) CheckSystemTx(st StateReader, from common.Address, tx *types.Transaction) error {
	if to := tx.To(); to == nil || *to != StakingAddress {
		return nil
	}
	if err := e.checkStaker(st, from); err != nil || len(tx.Data()) == 0 {
		return err
	}
	_, err := e.checkUnbond(st, from, tx.Data())
	return err
}

// InitGenesis gives each genesis validator its stake and puts the stakes in
// escrow at StakingAddress.
func (e *Engine) InitGenesis(g *chain.Genesis, _ *chain.Header, st *chain.State) {
	cfg := Section(g)
	if cfg == nil {
		return // another engine's genesis: nothing of ours in it
	}
	escrow := new(big.Int)
	for _, v := range cfg.Validators {
		setStake(st, v.Address, new(big.Int).Set(v.Stake.Big()))
		escrow.Add(escrow, v.Stake.Big())
	}
	if escrow.Sign() > 0 {
		st.Credit(StakingAddress, escrow)
	}
}

// Finalize pays the block reward to the proposer.
func (e *Engine) Finalize(_ chain.ChainReader, st *chain.State, h *chain.Header) error {
	st.Credit(h.Coinbase, e.g.BlockReward.Big())
	return nil
}
