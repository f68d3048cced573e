package bftchain

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/crypto"
)

// A commit, a block's proof, is the round (4 bytes, big-endian), then for
// each precommit its validator's index (2 bytes) and signature (65 bytes);
// it holds at most maxCommitSigs precommits, so a set whose smallest quorum
// needs no more than 100 validators fits (6,704 bytes; chain.MaxProofSize
// is 65,536).
const (
	sigEntrySize  = 2 + crypto.SignatureLength
	maxCommitSigs = 100
	maxCommitSize = 4 + maxCommitSigs*sigEntrySize
)

// The longest commit is within the chain's bound on a proof.
var _ [chain.MaxProofSize - maxCommitSize]struct{}

// Commit is the proof that a block was decided: precommits of more than two
// thirds of the stake for its SealHash, at its height, in one round.
type Commit struct {
	Round bft.Round
	Sigs  []CommitSig
}

// CommitSig is one validator's precommit signature.
type CommitSig struct {
	Validator int
	Sig       []byte
}

// commitOf is the smallest part of d's precommits that is still a quorum:
// the most powerful validators first (the lower index among equals), so
// that it fits its bound.
func commitOf(vals *bft.ValidatorSet, d *bft.Decision) (Commit, error) {
	pcs := slices.Clone(d.Commit)
	slices.SortFunc(pcs, func(a, b bft.Message) int {
		if pa, pb := vals.Power(a.Validator), vals.Power(b.Validator); pa != pb {
			return cmp.Compare(pb, pa)
		}
		return a.Validator - b.Validator
	})
	c := Commit{Round: d.Round}
	var power int64
	for _, m := range pcs {
		c.Sigs = append(c.Sigs, CommitSig{Validator: m.Validator, Sig: m.Sig})
		if power += vals.Power(m.Validator); vals.HasQuorum(power) {
			return c, nil
		}
	}
	return Commit{}, fmt.Errorf("bftchain: decision at height %d without a quorum of precommits", d.Height)
}

// Encode is the commit as a block's proof.
func (c Commit) Encode() []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(c.Round))
	for _, s := range c.Sigs {
		b = binary.BigEndian.AppendUint16(b, uint16(s.Validator))
		b = append(b, s.Sig...)
	}
	return b
}

// DecodeCommit reads a block's proof as a commit.
func DecodeCommit(proof []byte) (Commit, error) {
	if len(proof) < 4 || len(proof) > maxCommitSize || (len(proof)-4)%sigEntrySize != 0 {
		return Commit{}, fmt.Errorf("proof of %d bytes is not a commit", len(proof))
	}
	c := Commit{Round: bft.Round(binary.BigEndian.Uint32(proof))}
	if c.Round < 0 {
		return Commit{}, fmt.Errorf("commit of round %d", c.Round)
	}
	for b := proof[4:]; len(b) > 0; b = b[sigEntrySize:] {
		c.Sigs = append(c.Sigs, CommitSig{Validator: int(binary.BigEndian.Uint16(b)), Sig: b[2:sigEntrySize:sigEntrySize]})
	}
	return c, nil
}

// verify checks that c commits h: precommits for h's SealHash at its
// height, in c's round, by distinct validators of vals, each signature
// valid, together more than two thirds of the power.
func (c Commit) verify(chainID string, vals *bft.ValidatorSet, h *chain.Header) error {
	value := bft.Value(h.SealHash())
	seen := map[int]bool{}
	var power int64
	for _, s := range c.Sigs {
		if seen[s.Validator] {
			return fmt.Errorf("validator %d precommits twice", s.Validator)
		}
		seen[s.Validator] = true
		m := bft.Message{Type: bft.TypePrecommit, Height: bft.Height(h.Height), Round: c.Round, Value: value,
			ValidRound: bft.NoRound, Validator: s.Validator, Sig: s.Sig}
		if err := bft.Verify(chainID, vals, AddressVerifier{}, m); err != nil {
			return err
		}
		power += vals.Power(s.Validator)
	}
	if !vals.HasQuorum(power) {
		return errors.New("precommits of no more than 2/3 of the stake")
	}
	return nil
}
