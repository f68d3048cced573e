package pos

import (
	"encoding/binary"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The engine keeps its state in the chain's engine records (chain.State's
// Record and SetRecord), so that the state root commits to it and the
// chain's undo records roll it back on a reorg, while none of it shows as an
// account. Every record here is a small number and a 256-bit word; keys are
// Keccak-256 of a tag and its parts.

// StateReader reads engine records: *chain.State, or the head's through
// HeadState.
type StateReader interface {
	Record(key common.Hash) []byte
}

// HeadState reads the chain's head state.
type HeadState struct{ C *chain.Chain }

// Record implements StateReader.
func (h HeadState) Record(key common.Hash) []byte { return h.C.Record(key) }

// rec is one engine record: a small number and a 256-bit word.
type rec struct {
	Nonce uint64
	Value *big.Int
}

const recSize = 8 + 32

// getRec reads the record at key; ok is false (and the record zero) if there
// is none.
func getRec(st StateReader, key common.Hash) (r rec, ok bool) {
	b := st.Record(key)
	if len(b) != recSize {
		return rec{Value: new(big.Int)}, false
	}
	return rec{Nonce: binary.BigEndian.Uint64(b), Value: new(big.Int).SetBytes(b[8:])}, true
}

// setRec writes the record at key; a zero record is deleted.
func setRec(st *chain.State, key common.Hash, r rec) {
	if r.Nonce == 0 && (r.Value == nil || r.Value.Sign() == 0) {
		st.SetRecord(key, nil)
		return
	}
	var b [recSize]byte
	binary.BigEndian.PutUint64(b[:], r.Nonce)
	if r.Value != nil {
		r.Value.FillBytes(b[8:])
	}
	st.SetRecord(key, b[:])
}

func sysKey(tag string, parts ...[]byte) common.Hash {
	data := append([]byte("chaind/pos/"), tag...)
	for _, p := range parts {
		data = append(data, p...)
	}
	return crypto.Keccak256Hash(data)
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

var (
	keyMix       = sysKey("randao-mix")
	keySeed      = sysKey("epoch-seed") // nonce: epoch + 1, balance: the epoch's seed
	keyJustified = sysKey("justified")  // nonce: epoch, balance: checkpoint hash
	keyFinalized = sysKey("finalized")
)

var keyValidatorCount = sysKey("validator-count") // nonce: validators that bonded after genesis

func keyValidator(i uint64) common.Hash         { return sysKey("validator", u64(i)) }
func keyPending(v common.Address) common.Hash   { return sysKey("pending-bond", v[:]) }
func keyUnbonding(v common.Address) common.Hash { return sysKey("unbonding", v[:]) } // nonce: release epoch
func keyExiting(v common.Address) common.Hash   { return sysKey("exiting", v[:]) }   // nonce: exit epoch
func keySlashed(v common.Address) common.Hash   { return sysKey("slashed", v[:]) }
func keyCheckpoint(epoch uint64) common.Hash    { return sysKey("checkpoint", u64(epoch)) }
func keyVoted(epoch uint64, v common.Address) common.Hash {
	return sysKey("voted", u64(epoch), v[:])
}

func hashOf(a rec) common.Hash { return common.BigToHash(a.Value) }

func setWord(st *chain.State, key common.Hash, nonce uint64, word common.Hash) {
	setRec(st, key, rec{Nonce: nonce, Value: new(big.Int).SetBytes(word[:])})
}

// keyStake holds v's active stake.
func keyStake(v common.Address) common.Hash { return sysKey("stake", v[:]) }

func setStake(st *chain.State, v common.Address, stake *big.Int) {
	setStakeRec(st, keyStake(v), rec{Value: stake})
}

// Checkpoint is an epoch and the block that opens it.
type Checkpoint struct {
	Epoch uint64
	Hash  common.Hash
}

// justified is the latest justified checkpoint in st (genesis at first).
func (e *Engine) justified(st StateReader) Checkpoint {
	if a, ok := getRec(st, keyJustified); ok && a.Value.Sign() > 0 {
		return Checkpoint{Epoch: a.Nonce, Hash: hashOf(a)}
	}
	return Checkpoint{Epoch: 0, Hash: e.genesisHash}
}

// finalized is the latest finalized checkpoint in st (genesis at first).
func (e *Engine) finalized(st StateReader) Checkpoint {
	if a, ok := getRec(st, keyFinalized); ok && a.Value.Sign() > 0 {
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
	a, ok := getRec(st, keyCheckpoint(epoch))
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
	return append(append([]common.Address(nil), e.validators...), registered(st)...)
}

// registered lists the validators that bonded after genesis, in order.
func registered(st StateReader) []common.Address {
	n, _ := getRec(st, keyValidatorCount)
	out := make([]common.Address, 0, n.Nonce)
	for i := uint64(0); i < n.Nonce; i++ {
		a, _ := getRec(st, keyValidator(i))
		out = append(out, common.BigToAddress(a.Value))
	}
	return out
}

// EpochLength is the number of slots per epoch.
func (e *Engine) EpochLength() uint64 { return e.cfg.EpochLength }
