package bftchain

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"

	"github.com/chaind/chaind/bft"
	"github.com/ethereum/go-ethereum/crypto"
)

// KeySigner signs bft messages with a validator's Ethereum key: a 65-byte
// recoverable secp256k1 signature of the message's keccak256.
type KeySigner struct{ Key *ecdsa.PrivateKey }

// Sign implements bft.Signer.
func (s KeySigner) Sign(msg []byte) ([]byte, error) {
	sig, err := crypto.Sign(crypto.Keccak256(msg), s.Key)
	if err != nil {
		return nil, fmt.Errorf("bftchain: sign: %w", err)
	}
	return sig, nil
}

// AddressVerifier checks a KeySigner's signature against a validator
// named by its 20-byte address, the address its signature recovers to.
type AddressVerifier struct{}

// Verify implements bft.Verifier.
func (AddressVerifier) Verify(addr, msg, sig []byte) bool {
	if len(addr) != 20 || len(sig) != crypto.SignatureLength {
		return false
	}
	pub, err := crypto.SigToPub(crypto.Keccak256(msg), sig)
	return err == nil && bytes.Equal(crypto.PubkeyToAddress(*pub).Bytes(), addr)
}

var (
	_ bft.Signer   = KeySigner{}
	_ bft.Verifier = AddressVerifier{}
)
