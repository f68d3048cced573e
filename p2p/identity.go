package p2p

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/chaind/chaind/p2p/addrman"
	"github.com/ethereum/go-ethereum/crypto"
)

// nodeIDLen is the length of a node id: a compressed secp256k1 public key.
const nodeIDLen = 33

// NodeIDOf is the node id of key: its compressed public key.
func NodeIDOf(key *ecdsa.PrivateKey) []byte { return crypto.CompressPubkey(&key.PublicKey) }

// A peer address is host:port, or <id>@host:port with id the hex of the
// node's id (as enode URLs carry the key): dialling an address with an id
// admits only the node that proves that key.

// ParseAddr splits a peer address into the node id it names (nil for a bare
// host:port) and its host:port.
func ParseAddr(addr string) (id []byte, hostport string, err error) {
	hexID, hostport := addrman.SplitID(addr)
	if hostport != addr { // it names an id
		if id, err = hex.DecodeString(hexID); err != nil || len(id) != nodeIDLen {
			return nil, "", fmt.Errorf("peer address %q: the node id must be %d bytes of hex", addr, nodeIDLen)
		}
		if _, err := crypto.DecompressPubkey(id); err != nil {
			return nil, "", fmt.Errorf("peer address %q: node id: %w", addr, err)
		}
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return nil, "", fmt.Errorf("peer address %q: %w", addr, err)
	}
	return id, hostport, nil
}

// idAddr is the address of the node with id (hex) at hostport.
func idAddr(id, hostport string) string { return id + "@" + hostport }

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
