package p2p

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/crypto"
)

// nodeIDLen is the length of a node id: a compressed secp256k1 public key.
const nodeIDLen = 33

// authTag separates handshake signatures from every other use of a key.
var authTag = []byte("chaind handshake v2")

// NodeIDOf is the node id of key: its compressed public key.
func NodeIDOf(key *ecdsa.PrivateKey) []byte { return crypto.CompressPubkey(&key.PublicKey) }

// authDigest is what the signer signs: the verifier's fresh nonce binds the
// signature to this connection, and both ids bind it to this pair.
func authDigest(signer, verifier *Hello) []byte {
	return crypto.Keccak256(authTag, verifier.Nonce[:], signer.Nonce[:], verifier.NodeID, signer.NodeID)
}

// SignAuth answers the other side's challenge: ours is the Hello we sent
// (with key's id), theirs the one we received.
func SignAuth(key *ecdsa.PrivateKey, ours, theirs *Hello) (*Auth, error) {
	sig, err := crypto.Sign(authDigest(ours, theirs), key)
	if err != nil {
		return nil, fmt.Errorf("sign handshake: %w", err)
	}
	return &Auth{Sig: sig}, nil
}

// errBadAuth is a handshake signature that does not prove the claimed id.
var errBadAuth = errors.New("handshake signature does not match the node id")

// verifyAuth checks that auth was made by the key of theirs.NodeID over the
// nonce we sent in ours.
func verifyAuth(auth *Auth, ours, theirs *Hello) error {
	pub, err := crypto.SigToPub(authDigest(theirs, ours), auth.Sig)
	if err != nil {
		return fmt.Errorf("%w: %v", errBadAuth, err)
	}
	if !bytes.Equal(crypto.CompressPubkey(pub), theirs.NodeID) {
		return errBadAuth
	}
	return nil
}

// LoadNodeKey reads the node key at path (hex, as geth's nodekey file), or
// creates one there (mode 0600) when the file does not exist.
func LoadNodeKey(path string) (*ecdsa.PrivateKey, error) {
	key, err := crypto.LoadECDSA(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("node key %s: %w", path, err)
	}
	if key, err = crypto.GenerateKey(); err != nil {
		return nil, fmt.Errorf("generate node key: %w", err)
	}
	if err := crypto.SaveECDSA(path, key); err != nil {
		return nil, fmt.Errorf("save node key: %w", err)
	}
	return key, nil
}
