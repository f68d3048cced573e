package pos

import (
	"encoding/binary"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The engine keeps its state in accounts at reserved addresses, so that the
// state root commits to it and the chain's undo records roll it back on a
// reorg: a 256-bit value in the balance, a small number in the nonce.

// StateReader reads accounts: *chain.State, or the head through HeadState.
type StateReader interface {
	Get(addr common.Address) (chain.Account, bool)
}

// HeadState reads the chain's head state.
type HeadState struct{ C *chain.Chain }

// Get implements StateReader.
func (h HeadState) Get(addr common.Address) (chain.Account, bool) { return h.C.Account(addr), true }

func sysAddr(tag string, parts ...[]byte) common.Address {
	data := append([]byte("chaind/pos/"), tag...)
	for _, p := range parts {
		data = append(data, p...)
	}
	return common.BytesToAddress(crypto.Keccak256(data)[12:])
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

var (
	addrMix       = sysAddr("randao-mix")
	addrSeed      = sysAddr("epoch-seed") // nonce: epoch + 1, balance: the epoch's seed
	addrJustified = sysAddr("justified")  // nonce: epoch, balance: checkpoint hash
	addrFinalized = sysAddr("finalized")
)

var addrValidatorCount = sysAddr("validator-count") // nonce: validators that bonded after genesis

func addrValidator(i uint64) common.Address         { return sysAddr("validator", u64(i)) }
func addrPending(v common.Address) common.Address   { return sysAddr("pending-bond", v[:]) }
func addrUnbonding(v common.Address) common.Address { return sysAddr("unbonding", v[:]) } // nonce: release epoch
func addrExiting(v common.Address) common.Address   { return sysAddr("exiting", v[:]) }   // nonce: exit epoch
func addrSlashed(v common.Address) common.Address   { return sysAddr("slashed", v[:]) }
func addrCheckpoint(epoch uint64) common.Address    { return sysAddr("checkpoint", u64(epoch)) }
func addrVoted(epoch uint64, v common.Address) common.Address {
	return sysAddr("voted", u64(epoch), v[:])
}

func hashOf(a chain.Account) common.Hash { return common.BigToHash(a.Balance) }

func setWord(st *chain.State, addr common.Address, nonce uint64, word common.Hash) {
	st.Set(addr, chain.Account{Nonce: nonce, Balance: new(big.Int).SetBytes(word[:])})
}

// Checkpoint is an epoch and the block that opens it.
type Checkpoint struct {
	Epoch uint64
	Hash  common.Hash
}

// justified is the latest justified checkpoint in st (genesis at first).
func (e *Engine) justified(st StateReader) Checkpoint {
	if a, ok := st.Get(addrJustified); ok && a.Balance.Sign() > 0 {
		return Checkpoint{Epoch: a.Nonce, Hash: hashOf(a)}
	}
	return Checkpoint{Epoch: 0, Hash: e.genesisHash}
}

// finalized is the latest finalized checkpoint in st (genesis at first).
func (e *Engine) finalized(st StateReader) Checkpoint {
	if a, ok := st.Get(addrFinalized); ok && a.Balance.Sign() > 0 {
		return Checkpoint{Epoch: a.Nonce, Hash: hashOf(a)}
	}
	return Checkpoint{Epoch: 0, Hash: e.genesisHash}
}

// checkpoint is the block that opens epoch on this chain: the last block
// before the epoch's first slot.
func (e *Engine) checkpoint(st StateReader, epoch uint64) (common.Hash, bool) {
	if epoch == 0 {
		return e.genesisHash, true
	}
	a, ok := st.Get(addrCheckpoint(epoch))
	if !ok || a.Nonce == 0 {
		return common.Hash{}, false
	}
	return hashOf(a), true
}

// Justified is the latest justified checkpoint in st.
func (e *Engine) Justified(st StateReader) Checkpoint { return e.justified(st) }

// FinalizedCheckpoint is the latest finalized checkpoint in st.
func (e *Engine) FinalizedCheckpoint(st StateReader) Checkpoint { return e.finalized(st) }

// ValidatorSet lists every validator st knows: the genesis validators (by
// address), then those that bonded later (in order). Slashed or unbonded
// ones stay listed with stake zero, so they are never drawn.
func (e *Engine) ValidatorSet(st StateReader) []common.Address {
	out := append([]common.Address(nil), e.validators...)
	n, _ := st.Get(addrValidatorCount)
	for i := uint64(0); i < n.Nonce; i++ {
		a, _ := st.Get(addrValidator(i))
		out = append(out, common.BigToAddress(a.Balance))
	}
	return out
}

// EpochLength is the number of slots per epoch.
func (e *Engine) EpochLength() uint64 { return e.g.EpochLength }
