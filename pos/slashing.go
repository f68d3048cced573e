package pos

import (
	"bytes"
	"math/big"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Slashing. Evidence is a consensus message (body.go): two signed headers
// of one proposer for one slot, or two finality votes of one validator that
// conflict (two for one target epoch, or one surrounding the other). A
// block that includes it burns the offender's active, pending and
// unbonding stake, and the offender can never stake again, on every node
// that executes the block.

// Evidence kinds.
const (
	DoubleProposal uint8 = 1 // A, B: encoded headers
	DoubleVote     uint8 = 2 // A, B: encoded signed votes
)

// Evidence proves an offence; blocks include it in their body.
type Evidence struct {
	Kind uint8
	A, B []byte
}

func evidenceError(format string, args ...any) error {
	return chain.NewRuleError(ErrBadEvidence, format, args...)
}

// ErrBadEvidence is evidence that proves nothing.
const ErrBadEvidence = chain.ErrorKind("bad slashing evidence")

// DecodeEvidence decodes evidence as it travels, checking its size.
func DecodeEvidence(data []byte) (Evidence, error) {
	var ev Evidence
	if len(data) > MaxEvidenceSize {
		return ev, evidenceError("%d bytes, evidence has at most %d", len(data), MaxEvidenceSize)
	}
	if err := rlp.DecodeBytes(data, &ev); err != nil {
		return ev, evidenceError("%v", err)
	}
	return ev, nil
}

// checkEvidence checks ev and returns the offender it proves.
func (e *Engine) checkEvidence(ev *Evidence) (common.Address, error) {
	switch ev.Kind {
	case DoubleProposal:
		return e.checkDoubleProposal(ev.A, ev.B)
	case DoubleVote:
		return e.checkDoubleVote(ev.A, ev.B)
	}
	return common.Address{}, evidenceError("unknown kind %d", ev.Kind)
}

// checkDoubleProposal: two headers for one slot, both signed by their (same)
// proposer over this chain's proposer domain, with different seal hashes.
// The slot is part of what the proposer signed (BlockSigningRoot), so a
// header whose slot was rewritten no longer verifies, and each header's time
// must be its slot's, as in a valid block. Two headers that differ only in
// their seal (the same block signed twice) are not two proposals.
func (e *Engine) checkDoubleProposal(a, b []byte) (common.Address, error) {
	var ha, hb chain.Header
	if ha.UnmarshalBinary(a) != nil || hb.UnmarshalBinary(b) != nil {
		return common.Address{}, evidenceError("undecodable header")
	}
	if ha.Nonce != hb.Nonce || ha.Coinbase != hb.Coinbase || ha.SealHash() == hb.SealHash() {
		return common.Address{}, evidenceError("not two different headers of one proposer for one slot")
	}
	for _, h := range []*chain.Header{&ha, &hb} {
		if err := e.checkSignedHeader(h); err != nil {
			return common.Address{}, err
		}
	}
	return ha.Coinbase, nil
}

// checkSignedHeader checks that h is signed by its coinbase over this
// chain's proposer domain, and that its time is its slot's.
func (e *Engine) checkSignedHeader(h *chain.Header) error {
	if len(h.Seal) != sealSize {
		return evidenceError("header without a seal")
	}
	if h.Time != e.g.Timestamp+h.Nonce*e.slotMs {
		return evidenceError("header time %d is not the start of slot %d", h.Time, h.Nonce)
	}
	if !lowS(h.Seal[:crypto.SignatureLength]) || !e.signedByProposer(h) {
		return evidenceError("header not signed by its proposer on this chain")
	}
	return nil
}

// checkDoubleVote: two different votes by one validator for one target
// epoch, or one surrounding the other (s1 < s2 and t2 < t1), each signed
// by the validator on this chain.
func (e *Engine) checkDoubleVote(a, b []byte) (common.Address, error) {
	va, err := e.decodeVerifiedVote(a)
	if err != nil {
		return common.Address{}, err
	}
	vb, err := e.decodeVerifiedVote(b)
	if err != nil {
		return common.Address{}, err
	}
	if va.Validator != vb.Validator || bytes.Equal(a, b) {
		return common.Address{}, evidenceError("not two votes of one validator")
	}
	if !Conflict(va.Vote, vb.Vote) {
		return common.Address{}, evidenceError("the votes do not conflict")
	}
	return va.Validator, nil
}

func (e *Engine) decodeVerifiedVote(raw []byte) (SignedVote, error) {
	sv, err := DecodeSignedVote(raw)
	if err != nil {
		return sv, evidenceError("%v", err)
	}
	if err := e.VerifyVote(sv); err != nil {
		return sv, evidenceError("%v", err)
	}
	return sv, nil
}

// slash burns every wei v has at stake, takes its votes for open targets
// back and bars it from staking again. Evidence against an already slashed
// validator changes nothing.
func (e *Engine) slash(st *chain.State, h *chain.Header, v common.Address) {
	if s, _ := getRec(st, keySlashed(v)); s.Nonce != 0 {
		return
	}
	e.withdrawVotes(st, h, v)
	burned := new(big.Int).Set(e.Stake(st, v))
	setStake(st, v, nil)
	setStakeRec(st, keyExiting(v), rec{}) // a part of the stake just burned
	for _, k := range []common.Hash{keyPending(v), keyUnbonding(v)} {
		if x, _ := getRec(st, k); x.Value.Sign() > 0 {
			burned.Add(burned, x.Value)
			setStakeRec(st, k, rec{})
		}
	}
	escrow, _ := st.Get(StakingAddress)
	escrow.Balance = new(big.Int).Sub(escrow.Balance, burned)
	st.Set(StakingAddress, escrow)
	setRec(st, keySlashed(v), rec{Nonce: 1, Value: new(big.Int)})
}

// Slashed reports whether v was slashed in st.
func (e *Engine) Slashed(st StateReader, v common.Address) bool {
	s, _ := getRec(st, keySlashed(v))
	return s.Nonce != 0
}

// Conflict reports whether a and b, two votes of one validator, are
// slashable together: different votes for one target epoch, or one
// surrounding the other.
func Conflict(a, b Vote) bool {
	double := a.Target.Epoch == b.Target.Epoch && a != b
	surround := (a.Source.Epoch < b.Source.Epoch && b.Target.Epoch < a.Target.Epoch) ||
		(b.Source.Epoch < a.Source.Epoch && a.Target.Epoch < b.Target.Epoch)
	return double || surround
}

// Encode is ev's RLP, as it travels.
func (ev *Evidence) Encode() []byte {
	data, _ := rlp.EncodeToBytes(ev) // cannot fail: two byte strings and a byte
	return data
}
