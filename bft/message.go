package bft

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
)

// Type is the kind of a consensus message.
type Type uint8

// The three messages of the protocol.
const (
	TypeProposal Type = iota + 1
	TypePrevote
	TypePrecommit
)

func (t Type) String() string {
	switch t {
	case TypeProposal:
		return "proposal"
	case TypePrevote:
		return "prevote"
	case TypePrecommit:
		return "precommit"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Step is the step of the round in which a message of this type is signed.
func (t Type) Step() Step { return Step(t) }

// Message is a proposal or a vote: the paper's ⟨PROPOSAL, h, r, v, vr⟩,
// ⟨PREVOTE, h, r, id(v)⟩ and ⟨PRECOMMIT, h, r, id(v)⟩, from the validator of
// index Validator in the height's set. ValidRound is the proposal's vr
// (NoRound for votes). Sig is the validator's signature of SignBytes.
type Message struct {
	Type       Type
	Height     Height
	Round      Round
	Value      Value
	ValidRound Round
	Validator  int
	Sig        []byte
}

// signDomain starts every signed message, so that a signature made for
// chaind's BFT can never be replayed as anything else.
const signDomain = "chaind/bft/v1"

// SignBytes is what the validator signs: a domain, the chain id, and every
// field but the signature, in a fixed big-endian layout.
func (m Message) SignBytes(chainID string) []byte {
	var b bytes.Buffer
	b.WriteString(signDomain)
	b.WriteByte(0)
	b.WriteString(chainID)
	b.WriteByte(0)
	b.WriteByte(byte(m.Type))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(m.Height))
	b.Write(n[:])
	binary.BigEndian.PutUint32(n[:4], uint32(m.Round))
	b.Write(n[:4])
	binary.BigEndian.PutUint32(n[:4], uint32(m.ValidRound))
	b.Write(n[:4])
	binary.BigEndian.PutUint32(n[:4], uint32(m.Validator))
	b.Write(n[:4])
	b.Write(m.Value[:])
	return b.Bytes()
}

// ValidateBasic checks a message's form, before its signature: a known type,
// a height, rounds in range, a proposal of a value with vr below its round,
// and a vote without a valid round.
func (m Message) ValidateBasic() error {
	switch {
	case m.Type < TypeProposal || m.Type > TypePrecommit:
		return fmt.Errorf("bft: unknown message type %d", m.Type)
	case m.Height == 0:
		return errors.New("bft: message at height 0")
	case m.Round < 0:
		return fmt.Errorf("bft: negative round %d", m.Round)
	case m.Validator < 0:
		return fmt.Errorf("bft: negative validator index %d", m.Validator)
	case m.Type == TypeProposal && m.Value.IsNil():
		return errors.New("bft: proposal of nil")
	case m.Type == TypeProposal && (m.ValidRound < NoRound || m.ValidRound >= m.Round):
		return fmt.Errorf("bft: proposal of round %d with valid round %d", m.Round, m.ValidRound)
	case m.Type != TypeProposal && m.ValidRound != NoRound:
		return fmt.Errorf("bft: %s with valid round %d", m.Type, m.ValidRound)
	}
	return nil
}

func (m Message) String() string {
	return fmt.Sprintf("%s h=%d r=%d v=%s vr=%d by %d", m.Type, m.Height, m.Round, m.Value, m.ValidRound, m.Validator)
}

// Signer signs for one validator with its private key. The node plugs in
// its own scheme (secp256k1, BLS); Ed25519Signer is one.
type Signer interface {
	// Sign returns the signature of msg.
	Sign(msg []byte) ([]byte, error)
}

// Verifier checks a signature against a validator's public key.
type Verifier interface {
	// Verify reports whether sig is pubKey's signature of msg.
	Verify(pubKey, msg, sig []byte) bool
}

// Ed25519Signer signs with an Ed25519 key.
type Ed25519Signer struct{ Key ed25519.PrivateKey }

// Sign implements Signer.
func (s Ed25519Signer) Sign(msg []byte) ([]byte, error) {
	if len(s.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("bft: ed25519 signer without a key")
	}
	return ed25519.Sign(s.Key, msg), nil
}

// Ed25519Verifier verifies Ed25519 signatures.
type Ed25519Verifier struct{}

// Verify implements Verifier.
func (Ed25519Verifier) Verify(pubKey, msg, sig []byte) bool {
	return len(pubKey) == ed25519.PublicKeySize && ed25519.Verify(pubKey, msg, sig)
}

var (
	_ Signer   = Ed25519Signer{}
	_ Verifier = Ed25519Verifier{}
)

// Verify checks m's form, that its validator is in vals, and its signature.
func Verify(chainID string, vals *ValidatorSet, ver Verifier, m Message) error {
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	v, ok := vals.Get(m.Validator)
	if !ok {
		return fmt.Errorf("bft: validator %d not in the set of %d", m.Validator, vals.Size())
	}
	if !ver.Verify(v.PubKey, m.SignBytes(chainID), m.Sig) {
		return fmt.Errorf("bft: bad signature on %s", m)
	}
	return nil
}
