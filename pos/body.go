package pos

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Consensus messages. Finality votes and slashing evidence are messages of
// the consensus protocol, not account transactions (the beacon block body,
// with its attestations and slashings, is the model): they travel on their
// own p2p channels (VoteCode, EvidenceCode), wait in the engine's pools
// (pools.go) and are included by proposers in the consensus body of a
// block (chain.Block.Consensus), which the header commits to. They use no
// nonce and pay no fee: a validator needs no balance to vote, and a vote
// made on one side of a partition counts on the other.

// The p2p channel codes of the consensus messages (p2p.FirstChannelCode
// and the next).
const (
	VoteCode     byte = 0x40
	EvidenceCode byte = 0x41
)

// Bounds of the messages and of a block's body.
const (
	// MaxVoteSize bounds an encoded SignedVote: two checkpoints, a head,
	// an address, a signature and their RLP.
	MaxVoteSize = 256
	// MaxEvidenceSize bounds encoded evidence: two headers (or two votes,
	// which are smaller) and the RLP around them; a PoS seal is at most
	// chain.DefaultSealSize.
	MaxEvidenceSize = 2*(chain.HeaderFieldsSize+chain.DefaultSealSize) + 16
	// maxBodyVotes and maxBodyEvidence bound what one block includes.
	maxBodyVotes    = 2048
	maxBodyEvidence = 16
)

// SignedVote is a finality vote as it travels and as blocks include it:
// the vote, its validator, and the validator's signature of the vote's
// signing root in this chain's attester domain (VoteSigningRoot).
type SignedVote struct {
	Vote      Vote
	Validator common.Address
	Sig       []byte
}

// Encode is sv's RLP.
func (sv *SignedVote) Encode() []byte {
	data, _ := rlp.EncodeToBytes(sv) // cannot fail: numbers, hashes and bytes
	return data
}

// DecodeSignedVote decodes a vote and checks what needs no state: its size,
// its encoding (canonical: one encoding per vote) and its signature's shape.
func DecodeSignedVote(data []byte) (SignedVote, error) {
	var sv SignedVote
	if len(data) > MaxVoteSize {
		return sv, chain.NewRuleError(ErrBadVote, "%d bytes, a vote has at most %d", len(data), MaxVoteSize)
	}
	if err := rlp.DecodeBytes(data, &sv); err != nil {
		return sv, chain.NewRuleError(ErrBadVote, "%v", err)
	}
	if !lowS(sv.Sig) {
		return sv, chain.NewRuleError(ErrBadVote, "the signature is not canonical")
	}
	if !bytes.Equal(sv.Encode(), data) {
		return sv, chain.NewRuleError(ErrBadVote, "not in canonical form")
	}
	return sv, nil
}

// SignVote signs v with key in e's attester domain. Callers that keep
// slashing protection ask it first.
func (e *Engine) SignVote(key *ecdsa.PrivateKey, v Vote) (SignedVote, error) {
	root := e.VoteSigningRoot(v)
	sig, err := sign(root, key)
	if err != nil {
		return SignedVote{}, err
	}
	return SignedVote{Vote: v, Validator: crypto.PubkeyToAddress(key.PublicKey), Sig: sig}, nil
}

// VerifyVote checks that sv's signature is its validator's over the vote in
// this chain's attester domain: a vote signed for another chain (another
// chain id or genesis) does not verify.
func (e *Engine) VerifyVote(sv SignedVote) error {
	if !lowS(sv.Sig) {
		return chain.NewRuleError(ErrBadVote, "the signature is not canonical")
	}
	root := e.VoteSigningRoot(sv.Vote)
	signer, err := recoverSigner(root[:], sv.Sig)
	if err != nil || signer != sv.Validator {
		return chain.NewRuleError(ErrBadVote, "not signed by %s on this chain", sv.Validator.Hex())
	}
	return nil
}

// Body is the consensus body of a PoS block.
type Body struct {
	Evidence []Evidence
	Votes    []SignedVote
}

// Encode is b's RLP, or nil for an empty body.
func (b *Body) Encode() []byte {
	if len(b.Votes) == 0 && len(b.Evidence) == 0 {
		return nil
	}
	data, _ := rlp.EncodeToBytes(b) // cannot fail
	return data
}

// DecodeBody decodes a block's consensus body and checks what needs no
// state: its counts, the size of each item and the encoding (canonical).
func DecodeBody(data []byte) (Body, error) {
	var b Body
	if len(data) == 0 {
		return b, nil
	}
	if err := rlp.DecodeBytes(data, &b); err != nil {
		return b, chain.NewRuleError(ErrBadBody, "%v", err)
	}
	switch {
	case len(b.Votes) > maxBodyVotes:
		return b, chain.NewRuleError(ErrBadBody, "%d votes, a block has at most %d", len(b.Votes), maxBodyVotes)
	case len(b.Evidence) > maxBodyEvidence:
		return b, chain.NewRuleError(ErrBadBody, "%d pieces of evidence, a block has at most %d", len(b.Evidence), maxBodyEvidence)
	case !bytes.Equal(b.Encode(), data):
		return b, chain.NewRuleError(ErrBadBody, "not in canonical form")
	}
	for i := range b.Evidence {
		if n := len(b.Evidence[i].A) + len(b.Evidence[i].B); n > MaxEvidenceSize {
			return b, chain.NewRuleError(ErrBadBody, "evidence %d: %d bytes, at most %d", i, n, MaxEvidenceSize)
		}
	}
	return b, nil
}

// ErrBadBody is a consensus body that does not decode.
const ErrBadBody = chain.ErrorKind("bad consensus body")

var _ chain.BodyTransition = (*Engine)(nil)

// ApplyConsensus applies a block's body: its evidence slashes, then its
// votes are tallied (vote). Evidence that proves nothing, a vote whose
// signature is not its validator's on this chain, or a vote of an address
// that never was a validator makes the block invalid.
func (e *Engine) ApplyConsensus(_ chain.ChainReader, st *chain.State, h *chain.Header, data []byte) error {
	b, err := DecodeBody(data)
	if err != nil {
		return err
	}
	for i := range b.Evidence {
		offender, err := e.checkEvidence(&b.Evidence[i])
		if err != nil {
			return fmt.Errorf("evidence %d: %w", i, err)
		}
		e.slash(st, h, offender)
	}
	for i, sv := range b.Votes {
		if err := e.VerifyVote(sv); err != nil {
			return fmt.Errorf("vote %d: %w", i, err)
		}
		if err := e.vote(st, h, sv); err != nil {
			return fmt.Errorf("vote %d: %w", i, err)
		}
	}
	return nil
}

// BuildConsensus is the body of a block built on st: the pooled evidence
// against validators st has not slashed, and the pooled votes st has not
// recorded that can count in h's epoch (pools.go). A censoring engine
// (Censor) includes only its own keys' votes and no evidence.
func (e *Engine) BuildConsensus(_ chain.ChainReader, st *chain.State, h *chain.Header) ([]byte, error) {
	var b Body
	if !e.censoring() {
		for _, ev := range e.evidence.list() {
			if len(b.Evidence) == maxBodyEvidence {
				break
			}
			if offender, err := e.checkEvidence(&ev); err == nil && !e.Slashed(st, offender) {
				b.Evidence = append(b.Evidence, ev)
			}
		}
	}
	epoch, below := e.Epoch(h.Nonce), prunedBelow(st)
	for _, sv := range e.votes.list() {
		if len(b.Votes) == maxBodyVotes || !e.cfg.FinalityOn() {
			break
		}
		v, t := sv.Validator, sv.Vote.Target.Epoch
		if t < below || t > epoch || e.Slashed(st, v) || !e.isValidator(st, v) || (e.censoring() && e.keyOf[v] == nil) {
			continue
		}
		if rec, _ := getRec(st, keyVoted(t, v)); rec.Nonce != 0 {
			continue // on this branch already
		}
		b.Votes = append(b.Votes, sv)
	}
	return b.Encode(), nil
}
