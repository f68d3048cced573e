package pos

import (
	"crypto/ecdsa"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Signing domains, after Ethereum's compute_domain and compute_signing_root.
// Everything a validator signs is signed over a domain made of the message
// kind, the chain id and the genesis hash, so that a signature made for one
// kind of message, or on one chain, proves nothing about another: a key used
// honestly on two networks (every test network has chain id 31337) signs
// different roots on each, and evidence built from the other network's
// messages does not verify here.
//
//	domain       = kind (4 bytes) || keccak256(chainID (8 bytes, big-endian) || genesis hash)[:28]
//	signing root = keccak256(object root || domain)
//
// The object roots:
//
//	block seal     keccak256(header seal hash || slot)     (the slot rides in the
//	               header's nonce, which the seal hash zeroes: it is signed here)
//	RANDAO reveal  keccak256("chaind/pos/randao" || epoch)
//	finality vote  keccak256(RLP(vote))                    (see SignedVote)
//
// A finality vote is a consensus message (body.go): the vote, its
// validator and the validator's signature of the vote's signing root, which
// is also what slashing protection records for it. A vote signed on another
// chain does not verify here.

// Domain separates signatures by message kind and chain.
type Domain [32]byte

// DomainKind is a domain's message kind (Ethereum's DomainType).
type DomainKind [4]byte

// The kinds a validator signs, with Ethereum's values.
var (
	DomainProposer = DomainKind{0, 0, 0, 0}
	DomainAttester = DomainKind{1, 0, 0, 0}
	DomainRandao   = DomainKind{2, 0, 0, 0}
)

// ComputeDomain is the domain of kind on the chain with chainID and genesis.
func ComputeDomain(kind DomainKind, chainID uint64, genesis common.Hash) Domain {
	var d Domain
	copy(d[:4], kind[:])
	copy(d[4:], crypto.Keccak256(u64(chainID), genesis[:])[:28])
	return d
}

// SigningRoot is what is signed for an object with the given root in d.
func SigningRoot(object common.Hash, d Domain) common.Hash {
	return crypto.Keccak256Hash(object[:], d[:])
}

// domains are an engine's domains, fixed by its genesis.
type domains struct {
	proposer, attester, randao Domain
}

func newDomains(chainID uint64, genesis common.Hash) domains {
	return domains{
		proposer: ComputeDomain(DomainProposer, chainID, genesis),
		attester: ComputeDomain(DomainAttester, chainID, genesis),
		randao:   ComputeDomain(DomainRandao, chainID, genesis),
	}
}

// BlockSigningRoot is what h's proposer signs: its seal hash and its slot
// (h.Nonce), in the proposer domain.
func (e *Engine) BlockSigningRoot(h *chain.Header) common.Hash {
	seal := h.SealHash()
	return SigningRoot(crypto.Keccak256Hash(seal[:], u64(h.Nonce)), e.dom.proposer)
}

// revealRoot is what a proposer signs as its RANDAO reveal for epoch.
func (e *Engine) revealRoot(epoch uint64) common.Hash {
	return SigningRoot(crypto.Keccak256Hash([]byte("chaind/pos/randao"), u64(epoch)), e.dom.randao)
}

// VoteSigningRoot is the signing root of v in the attester domain.
func (e *Engine) VoteSigningRoot(v Vote) common.Hash {
	data, _ := rlp.EncodeToBytes(v) // cannot fail: numbers and hashes
	return SigningRoot(crypto.Keccak256Hash(data), e.dom.attester)
}

// sign signs root with key.
func sign(root common.Hash, key *ecdsa.PrivateKey) ([]byte, error) {
	return crypto.Sign(root[:], key)
}
