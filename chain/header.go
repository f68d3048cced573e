package chain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

// Header layout: a fixed big-endian encoding, so that a hash never depends on
// an encoder. The PoW nonce sits in the last 64-byte SHA-256 chunk, so a miner
// hashes the first HeaderMidstateLen bytes once per template.
const (
	offParent   = 0
	offTxRoot   = 32
	offState    = 64
	offCoinbase = 96
	offHeight   = 116
	offTime     = 124
	offGasUsed  = 132
	offBits     = 140
	offNonce    = 144

	// HeaderSize is the length of the hashed part of an encoded header.
	HeaderSize = 152
	// HeaderNonceOffset is where the 8-byte nonce starts in the encoding.
	HeaderNonceOffset = offNonce
	// HeaderMidstateLen is the prefix a miner can hash once per template.
	HeaderMidstateLen = 128
	// MaxSealSize bounds the unhashed seal (PoS: a signature and a RANDAO reveal).
	MaxSealSize = 160
)

// Header is a block header. The hash covers every field but Seal.
type Header struct {
	ParentHash common.Hash    // hash of the parent block
	TxRoot     common.Hash    // Ethereum transactions-trie root of the body
	StateRoot  common.Hash    // state root after executing the block
	Coinbase   common.Address // producer; receives the reward and the fees
	Height     uint64         // parent's height + 1; genesis is 0
	Time       uint64         // Unix time in milliseconds
	GasUsed    uint64         // 21000 per transaction
	Bits       uint32         // engine field: PoW compact target
	Nonce      uint64         // engine field: PoW nonce
	Seal       []byte         // engine data outside the hash (PoS signature)
}

// Hash is SHA-256d of the fixed encoding (Seal excluded).
func (h *Header) Hash() common.Hash {
	var buf [HeaderSize]byte
	h.encodeFixed(buf[:])
	first := sha256.Sum256(buf[:])
	return sha256.Sum256(first[:])
}

func (h *Header) encodeFixed(b []byte) {
	copy(b[offParent:], h.ParentHash[:])
	copy(b[offTxRoot:], h.TxRoot[:])
	copy(b[offState:], h.StateRoot[:])
	copy(b[offCoinbase:], h.Coinbase[:])
	binary.BigEndian.PutUint64(b[offHeight:], h.Height)
	binary.BigEndian.PutUint64(b[offTime:], h.Time)
	binary.BigEndian.PutUint64(b[offGasUsed:], h.GasUsed)
	binary.BigEndian.PutUint32(b[offBits:], h.Bits)
	binary.BigEndian.PutUint64(b[offNonce:], h.Nonce)
}

// HashingBytes returns the hashed part of the encoding (HeaderSize bytes).
func (h *Header) HashingBytes() []byte {
	b := make([]byte, HeaderSize)
	h.encodeFixed(b)
	return b
}

// MarshalBinary encodes the header: the fixed part followed by the seal.
func (h *Header) MarshalBinary() ([]byte, error) {
	if len(h.Seal) > MaxSealSize {
		return nil, fmt.Errorf("encode header: seal of %d bytes exceeds %d", len(h.Seal), MaxSealSize)
	}
	b := make([]byte, HeaderSize+len(h.Seal))
	h.encodeFixed(b)
	copy(b[HeaderSize:], h.Seal)
	return b, nil
}

// UnmarshalBinary decodes a header written by MarshalBinary.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderSize || len(b) > HeaderSize+MaxSealSize {
		return fmt.Errorf("decode header: %d bytes, want %d to %d", len(b), HeaderSize, HeaderSize+MaxSealSize)
	}
	copy(h.ParentHash[:], b[offParent:])
	copy(h.TxRoot[:], b[offTxRoot:])
	copy(h.StateRoot[:], b[offState:])
	copy(h.Coinbase[:], b[offCoinbase:])
	h.Height = binary.BigEndian.Uint64(b[offHeight:])
	h.Time = binary.BigEndian.Uint64(b[offTime:])
	h.GasUsed = binary.BigEndian.Uint64(b[offGasUsed:])
	h.Bits = binary.BigEndian.Uint32(b[offBits:])
	h.Nonce = binary.BigEndian.Uint64(b[offNonce:])
	h.Seal = nil
	if len(b) > HeaderSize {
		h.Seal = append([]byte(nil), b[HeaderSize:]...)
	}
	return nil
}

// Copy returns a deep copy of h.
func (h *Header) Copy() *Header {
	c := *h
	c.Seal = bytes.Clone(h.Seal)
	return &c
}

// TimeSeconds is the header time in whole seconds, as Ethereum clients expect.
func (h *Header) TimeSeconds() uint64 { return h.Time / 1000 }

// CompactToBig converts a compact target ("bits", as in Bitcoin) to a number.
func CompactToBig(bits uint32) *big.Int {
	mantissa := int64(bits & 0x007fffff)
	exponent := uint(bits >> 24)
	negative := bits&0x00800000 != 0
	var n *big.Int
	if exponent <= 3 {
		n = big.NewInt(mantissa >> (8 * (3 - exponent)))
	} else {
		n = new(big.Int).Lsh(big.NewInt(mantissa), 8*(exponent-3))
	}
	if negative {
		n.Neg(n)
	}
	return n
}

// BigToCompact converts a non-negative number to its compact form, truncating
// precision below the 23-bit mantissa.
func BigToCompact(n *big.Int) uint32 {
	if n.Sign() <= 0 {
		return 0
	}
	exponent := uint((n.BitLen() + 7) / 8)
	var mantissa uint32
	if exponent <= 3 {
		mantissa = uint32(n.Uint64() << (8 * (3 - exponent)))
	} else {
		mantissa = uint32(new(big.Int).Rsh(n, 8*(exponent-3)).Uint64())
	}
	if mantissa&0x00800000 != 0 {
		mantissa >>= 8
		exponent++
	}
	return uint32(exponent<<24) | mantissa
}
