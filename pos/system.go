package pos

import (
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// System addresses: transactions to them carry calldata that the engine
// applies (chain.StateTransition's ApplySystemTx).
var (
	// FinalityAddress receives finality votes: RLP-encoded votes, signed by
	// a validator's account.
	FinalityAddress = common.HexToAddress("0x00000000000000000000000000000000000F1A11")
	// StakingAddress bonds the value sent to it as the sender's stake;
	// calldata RLP(StakingCall) starts unbonding. Its balance is every
	// bonded wei (the escrow).
	StakingAddress = common.HexToAddress("0x0000000000000000000000000000000000005A6E")
	// SlashingAddress takes evidence of equivocation, from anyone.
	SlashingAddress = common.HexToAddress("0x0000000000000000000000000000000000005A54")
)

// SystemAddress reports whether addr is one of the engine's system addresses.
func (e *Engine) SystemAddress(addr common.Address) bool {
	return addr == FinalityAddress || addr == StakingAddress || addr == SlashingAddress
}

// InitGenesis gives each genesis validator its stake and puts the stakes in
// escrow at StakingAddress.
func (e *Engine) InitGenesis(g *chain.Genesis, _ *chain.Header, st *chain.State) {
	escrow := new(big.Int)
	for _, v := range g.Validators {
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
