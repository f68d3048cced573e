package pos

import (
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// Staking. A transfer to StakingAddress bonds its value: the stake
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

// StakingCall is the calldata of a transaction to StakingAddress.
type StakingCall struct {
	Unbond *big.Int
}

func (e *Engine) staking(st *chain.State, h *chain.Header, from common.Address, tx *types.Transaction) error {
	if err := e.checkStaker(st, from); err != nil {
		return err
	}
	if v := tx.Value(); v.Sign() > 0 {
		e.register(st, from)
		p, _ := getRec(st, keyPending(from))
		setStakeRec(st, keyPending(from), rec{Value: new(big.Int).Add(p.Value, v)})
	}
	if len(tx.Data()) == 0 {
		return nil
	}
	call, err := e.checkUnbond(st, from, tx.Data())
	if err != nil {
		return err
	}
	exiting, _ := getRec(st, keyExiting(from))
	setStakeRec(st, keyExiting(from), rec{Nonce: e.Epoch(h.Nonce) + ExitDelay, Value: new(big.Int).Add(exiting.Value, call.Unbond)})
	return nil
}

// checkStaker refuses calls from a slashed validator.
func (e *Engine) checkStaker(st StateReader, from common.Address) error {
	if e.Slashed(st, from) {
		return chain.NewRuleError(ErrNotValidator, "%s was slashed and cannot stake", from.Hex())
	}
	return nil
}

// maxStakingCall bounds staking calldata: RLP of a list of one 256-bit
// number.
const maxStakingCall = 40

// checkUnbond decodes an unbond call of from and checks it against st: an
// amount above zero and no more than from's active stake not already
// exiting.
func (e *Engine) checkUnbond(st StateReader, from common.Address, data []byte) (StakingCall, error) {
	var call StakingCall
	if len(data) > maxStakingCall {
		return call, chain.NewRuleError(chain.ErrCalldata, "staking call of %d bytes, at most %d", len(data), maxStakingCall)
	}
	if err := rlp.DecodeBytes(data, &call); err != nil || call.Unbond == nil || call.Unbond.Sign() <= 0 {
		return call, chain.NewRuleError(chain.ErrCalldata, "staking call: want RLP(StakingCall{Unbond: amount > 0})")
	}
	exiting, _ := getRec(st, keyExiting(from))
	free := new(big.Int).Sub(e.Stake(st, from), exiting.Value)
	if free.Cmp(call.Unbond) < 0 {
		return call, chain.NewRuleError(chain.ErrInsufficientFunds, "unbond %v: %s has %v active stake not already exiting", call.Unbond, from.Hex(), free)
	}
	return call, nil
}

// register lists a new validator in the state.
func (e *Engine) register(st *chain.State, v common.Address) {
	if e.isValidator(st, v) {
		return
	}
	n, _ := getRec(st, keyValidatorCount)
	setStakeRec(st, keyValidator(n.Nonce), rec{Value: new(big.Int).SetBytes(v[:])})
	setStakeRec(st, keyValidatorCount, rec{Nonce: n.Nonce + 1, Value: new(big.Int)})
}

// settlement is what the first block of an epoch does to one validator's
// active stake.
type settlement struct {
	stake   *big.Int // the active stake after it
	penalty *big.Int // burned for inactivity (inactivity.go), taken first
	exit    *big.Int // a due exit: leaves the active stake and starts unbonding
	due     bool     // an exit was due (it may find nothing left to take)
	bond    *big.Int // pending bonds that become active
}

// settledStake is the settlement of v at the opening of epoch, read from a
// state that has not opened it: the draw of an epoch not yet opened reads
// it (draw.go) and settleStakes applies it, so the two agree.
func (e *Engine) settledStake(st StateReader, v common.Address, epoch uint64) settlement {
	s := settlement{stake: new(big.Int).Set(e.Stake(st, v)), exit: new(big.Int), bond: new(big.Int)}
	s.penalty = e.inactivityPenalty(st, v, s.stake)
	s.stake.Sub(s.stake, s.penalty)
	if x, _ := getRec(st, keyExiting(v)); x.Value.Sign() > 0 && x.Nonce <= epoch {
		s.due = true
		s.exit.Set(x.Value)
		if s.exit.Cmp(s.stake) > 0 {
			s.exit.Set(s.stake) // penalties took part of what was to leave
		}
		s.stake.Sub(s.stake, s.exit)
	}
	if p, _ := getRec(st, keyPending(v)); p.Value.Sign() > 0 {
		s.bond.Set(p.Value)
		s.stake.Add(s.stake, p.Value)
	}
	return s
}

// settleStakes runs at the first block of epoch: inactivity penalties are
// burned, pending bonds become active, due exits leave the active stake and
// start unbonding, and matured unbondings are paid out of the staking
// address.
func (e *Engine) settleStakes(st *chain.State, epoch uint64) {
	for _, v := range e.ValidatorSet(st) {
		s := e.settledStake(st, v, epoch)
		if s.penalty.Sign() > 0 || s.due || s.bond.Sign() > 0 {
			setStake(st, v, s.stake)
		}
		if s.penalty.Sign() > 0 {
			fromEscrow(st, s.penalty) // burned
		}
		if s.due {
			setStakeRec(st, keyExiting(v), rec{Value: new(big.Int)})
			if s.exit.Sign() > 0 {
				u, _ := getRec(st, keyUnbonding(v))
				setRec(st, keyUnbonding(v), rec{Nonce: epoch + e.cfg.UnbondDelay, Value: new(big.Int).Add(u.Value, s.exit)})
			}
		}
		if s.bond.Sign() > 0 {
			setStakeRec(st, keyPending(v), rec{Value: new(big.Int)})
		}
		if u, _ := getRec(st, keyUnbonding(v)); u.Value.Sign() > 0 && u.Nonce <= epoch {
			fromEscrow(st, u.Value)
			acct, _ := st.Get(v)
			acct.Balance = new(big.Int).Add(acct.Balance, u.Value)
			st.Set(v, acct)
			setRec(st, keyUnbonding(v), rec{Value: new(big.Int)})
		}
	}
}

// fromEscrow takes amount out of the staking address, which holds every
// bonded wei: stake that is penalized (burned) or paid back leaves it.
func fromEscrow(st *chain.State, amount *big.Int) {
	escrow, _ := st.Get(StakingAddress)
	escrow.Balance = new(big.Int).Sub(escrow.Balance, amount)
	st.Set(StakingAddress, escrow)
}
