package pos

import (
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// Staking. A transfer to chain.StakingAddress bonds its value: the stake
// becomes active at the next epoch, so that an epoch's proposer schedule
// never changes once it has started. Calldata RLP(StakingCall{Unbond: x})
// asks to exit with x: x stays active (it votes, proposes and can be
// slashed) until the start of the epoch after next (ExitDelay epochs), so
// that an exit never changes a stake snapshot already taken or about to be;
// it then leaves the active stake and is paid back UnbondDelay epochs later,
// so that stake cannot escape a slashing for what it did while active. The
// staking address holds every bonded wei.

// ExitDelay is how many epoch boundaries an exit waits: an unbond requested
// in epoch E leaves the active stake when epoch E+ExitDelay opens.
const ExitDelay = 2

// StakingCall is the calldata of a transaction to chain.StakingAddress.
type StakingCall struct {
	Unbond *big.Int
}

func (e *Engine) staking(st *chain.State, h *chain.Header, from common.Address, tx *types.Transaction) error {
	if slashed, _ := st.Get(addrSlashed(from)); slashed.Nonce != 0 {
		return chain.NewRuleError(ErrNotValidator, "%s was slashed and cannot stake", from.Hex())
	}
	if v := tx.Value(); v.Sign() > 0 {
		e.register(st, from)
		p, _ := st.Get(addrPending(from))
		st.Set(addrPending(from), chain.Account{Balance: new(big.Int).Add(p.Balance, v)})
	}
	if len(tx.Data()) == 0 {
		return nil
	}
	var call StakingCall
	if err := rlp.DecodeBytes(tx.Data(), &call); err != nil || call.Unbond == nil || call.Unbond.Sign() <= 0 {
		return chain.NewRuleError(chain.ErrCalldata, "staking call: want RLP(StakingCall{Unbond: amount > 0})")
	}
	exiting, _ := st.Get(addrExiting(from))
	free := new(big.Int).Sub(e.Stake(st, from), exiting.Balance)
	if free.Cmp(call.Unbond) < 0 {
		return chain.NewRuleError(chain.ErrInsufficientFunds, "unbond %v: %s has %v active stake not already exiting", call.Unbond, from.Hex(), free)
	}
	st.Set(addrExiting(from), chain.Account{Nonce: e.Epoch(h.Nonce) + ExitDelay, Balance: new(big.Int).Add(exiting.Balance, call.Unbond)})
	return nil
}

// register lists a new validator in the state.
func (e *Engine) register(st *chain.State, v common.Address) {
	for _, known := range e.ValidatorSet(st) {
		if known == v {
			return
		}
	}
	n, _ := st.Get(addrValidatorCount)
	st.Set(addrValidator(n.Nonce), chain.Account{Balance: new(big.Int).SetBytes(v[:])})
	st.Set(addrValidatorCount, chain.Account{Nonce: n.Nonce + 1, Balance: new(big.Int)})
}

// settleStakes runs at the first block of epoch: pending bonds become
// active, due exits leave the active stake and start unbonding, and matured
// unbondings are paid out of the staking address.
func (e *Engine) settleStakes(st *chain.State, epoch uint64) {
	for _, v := range e.ValidatorSet(st) {
		if x, _ := st.Get(addrExiting(v)); x.Balance.Sign() > 0 && x.Nonce <= epoch {
			acct, _ := st.Get(v)
			acct.Stake = new(big.Int).Sub(e.Stake(st, v), x.Balance)
			st.Set(v, acct)
			st.Set(addrExiting(v), chain.Account{Balance: new(big.Int)})
			u, _ := st.Get(addrUnbonding(v))
			st.Set(addrUnbonding(v), chain.Account{Nonce: epoch + e.g.UnbondDelay, Balance: new(big.Int).Add(u.Balance, x.Balance)})
		}
		if p, _ := st.Get(addrPending(v)); p.Balance.Sign() > 0 {
			acct, _ := st.Get(v)
			acct.Stake = new(big.Int).Add(e.Stake(st, v), p.Balance)
			st.Set(v, acct)
			st.Set(addrPending(v), chain.Account{Balance: new(big.Int)})
		}
		if u, _ := st.Get(addrUnbonding(v)); u.Balance.Sign() > 0 && u.Nonce <= epoch {
			escrow, _ := st.Get(chain.StakingAddress)
			escrow.Balance = new(big.Int).Sub(escrow.Balance, u.Balance)
			st.Set(chain.StakingAddress, escrow)
			acct, _ := st.Get(v)
			acct.Balance = new(big.Int).Add(acct.Balance, u.Balance)
			st.Set(v, acct)
			st.Set(addrUnbonding(v), chain.Account{Balance: new(big.Int)})
		}
	}
}
