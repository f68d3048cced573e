package chain

import (
	"bytes"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Block identity. A header maps one to one onto an Ethereum header
// (Ethereum): the block hash is keccak256 of that header's RLP, which is also
// the header's wire and storage encoding, so an Ethereum client that
// recomputes the hash from the JSON-RPC fields gets chaind's hash. The fields
// Ethereum has no place for travel in its extraData: the millisecond part of
// the time, the difficulty bits, the root of the consensus body (when the
// block has one) and the engine's seal.
//
// extraData is: 2 bytes of milliseconds (Time % 1000), with bit 15 set when
// the root follows; 4 bytes of Bits; the 32-byte ConsensusRoot if flagged;
// then the seal. Everything before the seal is sealed. Headers without a
// consensus body (every PoW header) encode as they did before the root was
// added.
const (
	// ExtraPrefixSize is the fixed part of extraData: 2 bytes of
	// milliseconds (Time % 1000, and the root flag) and 4 bytes of Bits,
	// big-endian.
	ExtraPrefixSize = 6
	// rootFlag marks, in the milliseconds field, that a ConsensusRoot
	// follows the prefix.
	rootFlag = 0x8000
	// DefaultSealSize bounds the seal of an engine that states no bound of
	// its own (SealBounder): PoS's signature and RANDAO reveal fit.
	DefaultSealSize = 160
	// MaxSealSize bounds every engine's seal, so that a decoder bounds its
	// memory before it knows the engine: a commit of 100 validators' BFT
	// precommits fits.
	MaxSealSize = 8192
	// MaxHeaderSize bounds an encoded header.
	MaxHeaderSize = HeaderFieldsSize + MaxSealSize
	// HeaderFieldsSize bounds an encoded header without its seal: a header
	// whose seal is at most n bytes encodes in HeaderFieldsSize + n.
	HeaderFieldsSize = 1024 - DefaultSealSize
)

// Header is a block header.
type Header struct {
	ParentHash  common.Hash    // hash of the parent block
	TxRoot      common.Hash    // Ethereum transactions-trie root of the body
	ReceiptRoot common.Hash    // Ethereum receipts-trie root of the body
	StateRoot   common.Hash    // state root after executing the block
	Coinbase    common.Address // producer; receives the reward and the fees
	Height      uint64         // parent's height + 1; genesis is 0
	Time        uint64         // Unix time in milliseconds
	GasLimit    uint64         // the genesis's block gas limit
	GasUsed     uint64         // 21000 per transaction
	BaseFee     *big.Int       // the genesis's base fee per gas; nil reads as 0
	Bits        uint32         // engine field: PoW compact target, 0 for PoS
	Nonce       uint64         // engine field: PoW nonce, PoS slot
	// ConsensusRoot commits to the block's consensus body
	// (ConsensusBodyRoot of Block.Consensus); zero when the body is empty.
	ConsensusRoot common.Hash
	Seal          []byte // engine data outside the seal hash (PoS signature)
}

// extraData is h's extraData.
func (h *Header) extraData() []byte {
	return h.appendExtra(make([]byte, 0, ExtraPrefixSize+common.HashLength+len(h.Seal)), false)
}

// Ethereum is the Ethereum header h maps to; its hash is h's hash.
func (h *Header) Ethereum() *types.Header {
	baseFee := new(big.Int)
	if h.BaseFee != nil {
		baseFee.Set(h.BaseFee)
	}
	return &types.Header{
		ParentHash:  h.ParentHash,
		UncleHash:   types.EmptyUncleHash,
		Coinbase:    h.Coinbase,
		Root:        h.StateRoot,
		TxHash:      h.TxRoot,
		ReceiptHash: h.ReceiptRoot,
		Difficulty:  Work(h.Bits),
		Number:      new(big.Int).SetUint64(h.Height),
		GasLimit:    h.GasLimit,
		GasUsed:     h.GasUsed,
		Time:        h.Time / 1000,
		Extra:       h.extraData(),
		Nonce:       types.EncodeNonce(h.Nonce),
		BaseFee:     baseFee,
	}
}

// Hash is the block hash: keccak256 of the RLP of the Ethereum header, that
// is of h's encoding.
func (h *Header) Hash() common.Hash { return h.hashRLP(false) }

// SealHash is what the engine seals: the hash of the Ethereum header with the
// nonce zeroed and extraData cut before the seal (the consensus root stays),
// so neither the PoW
// nonce nor the PoS signature is part of what they commit to (as ethash and
// Clique keep the seal out of the hash they seal).
func (h *Header) SealHash() common.Hash { return h.hashRLP(true) }

// Work is the difficulty that bits stand for, 2^256/(target+1), as the
// Ethereum header shows it; 0 for bits 0 (PoS headers) and for bits whose
// target is negative.
func Work(bits uint32) *big.Int {
	slot := &works[bits%uint32(len(works))]
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.work == nil || slot.bits != bits {
		slot.bits, slot.work = bits, new(big.Int)
		if target := CompactToBig(bits); bits != 0 && target.Sign() >= 0 {
			slot.work = DifficultyForTarget(target)
		}
	}
	return new(big.Int).Set(slot.work)
}

// works remembers recent results of Work: every block hash needs its
// header's work, a 256-bit division, and neighbouring blocks mostly share
// their bits.
var works [256]struct {
	mu   sync.Mutex
	bits uint32
	work *big.Int
}

// MarshalBinary encodes the header as the RLP of its Ethereum header.
func (h *Header) MarshalBinary() ([]byte, error) {
	if len(h.Seal) > MaxSealSize {
		return nil, fmt.Errorf("encode header: seal of %d bytes exceeds %d", len(h.Seal), MaxSealSize)
	}
	if h.BaseFee != nil && h.BaseFee.Sign() < 0 {
		return nil, fmt.Errorf("encode header: negative base fee %v", h.BaseFee)
	}
	return h.appendRLP(make([]byte, 0, HeaderFieldsSize+len(h.Seal)), false), nil
}

// errHeader wraps a decoding failure.
func errHeader(format string, args ...any) error {
	return fmt.Errorf("decode header: "+format, args...)
}

// UnmarshalBinary decodes a header written by MarshalBinary. It is strict:
// every input that decodes re-encodes to itself, so no two encodings (and
// hashes) stand for one header.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) > MaxHeaderSize {
		return errHeader("%d bytes exceed the %d-byte limit", len(b), MaxHeaderSize)
	}
	d, err := decodeRLP(b)
	if err != nil {
		return errHeader("%w", err)
	}
	if again := d.appendRLP(make([]byte, 0, len(b)), false); !bytes.Equal(again, b) {
		return errHeader("not in canonical form")
	}
	*h = d
	return nil
}

// Copy returns a deep copy of h.
func (h *Header) Copy() *Header {
	c := *h
	c.Seal = bytes.Clone(h.Seal)
	if h.BaseFee != nil {
		c.BaseFee = new(big.Int).Set(h.BaseFee)
	}
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
