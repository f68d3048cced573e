package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// The RLP of a header's Ethereum header, written straight from the chaind
// fields: the block hash is the hottest path of an import (a simulation
// hashes every block on every node several times), and building a
// types.Header for it cost more than the keccak256 itself. The test
// TestFastEncodingIsGoEthereums holds it to rlp.EncodeToBytes(h.Ethereum()).

// encBufs holds encoding buffers for Hash and SealHash.
var encBufs = sync.Pool{New: func() any { b := make([]byte, 0, MaxHeaderSize); return &b }}

// hashRLP is keccak256 of the header's encoding (sealed: of its seal-hash
// form, nonce zero and extraData cut to its prefix).
func (h *Header) hashRLP(sealed bool) common.Hash {
	buf := encBufs.Get().(*[]byte)
	*buf = h.appendRLP((*buf)[:0], sealed)
	hash := keccakMemo(*buf)
	encBufs.Put(buf)
	return hash
}

// hashes remembers keccak256 of recent encodings, keyed by the encoding
// itself, so a hit is exact whatever copy of a header asks: a block's hash
// is asked for many times during its import, and in a process that runs
// many nodes (simulations, tests) by every node. Encoding and looking up
// cost a small part of the hash. The map is cleared when full, so hostile
// headers cost recomputation, never memory.
var hashes = struct {
	sync.Mutex
	m map[string]common.Hash
}{m: make(map[string]common.Hash)}

const maxCachedHashes = 4096

func keccakMemo(enc []byte) common.Hash {
	hashes.Lock()
	hash, ok := hashes.m[string(enc)]
	hashes.Unlock()
	if ok {
		return hash
	}
	hash = crypto.Keccak256Hash(enc)
	hashes.Lock()
	if len(hashes.m) >= maxCachedHashes {
		clear(hashes.m)
	}
	hashes.m[string(enc)] = hash
	hashes.Unlock()
	return hash
}

// appendRLP appends the RLP of h.Ethereum() to b (sealed: with the nonce
// zero and extraData cut before the seal). A negative base fee, which
// MarshalBinary refuses, is written as its absolute value.
func (h *Header) appendRLP(b []byte, sealed bool) []byte {
	start := len(b)
	b = append(b, 0xf9, 0, 0) // a list longer than 255 bytes: the bloom alone is 259
	b = appendHash(b, h.ParentHash)
	b = appendHash(b, types.EmptyUncleHash)
	b = append(b, 0x80+common.AddressLength)
	b = append(b, h.Coinbase[:]...)
	b = appendHash(b, h.StateRoot)
	b = appendHash(b, h.TxRoot)
	b = appendHash(b, h.ReceiptRoot)
	b = append(b, 0xb9, 0x01, 0x00) // the bloom: 256 zero bytes
	b = append(b, make([]byte, types.BloomByteLength)...)
	b = appendBig(b, Work(h.Bits))
	b = appendUint(b, h.Height)
	b = appendUint(b, h.GasLimit)
	b = appendUint(b, h.GasUsed)
	b = appendUint(b, h.Time/1000)
	extra := ExtraPrefixSize
	if h.ConsensusRoot != (common.Hash{}) {
		extra += common.HashLength
	}
	if !sealed {
		extra += len(h.Seal)
	}
	b = appendStringHeader(b, extra)
	b = h.appendExtra(b, sealed)
	b = appendHash(b, common.Hash{}) // mix digest
	nonce := h.Nonce
	if sealed {
		nonce = 0
	}
	b = append(b, 0x88)
	b = binary.BigEndian.AppendUint64(b, nonce)
	if h.BaseFee == nil {
		b = append(b, 0x80)
	} else {
		b = appendBig(b, h.BaseFee)
	}
	n := len(b) - start - 3
	if n <= 0xffff {
		binary.BigEndian.PutUint16(b[start+1:], uint16(n))
		return b
	}
	// Only a seal far above MaxSealSize, which no encoding carries, gets
	// here: make room for a longer length.
	head := appendLength(nil, 0xf7, uint64(n))
	b = append(b, head[3:]...)
	copy(b[start+len(head):], b[start+3:start+3+n])
	copy(b[start:], head)
	return b
}

// appendExtra appends h's extraData (sealed: without the seal) to b.
func (h *Header) appendExtra(b []byte, sealed bool) []byte {
	ms := uint16(h.Time % 1000)
	hasRoot := h.ConsensusRoot != (common.Hash{})
	if hasRoot {
		ms |= rootFlag
	}
	b = binary.BigEndian.AppendUint16(b, ms)
	b = binary.BigEndian.AppendUint32(b, h.Bits)
	if hasRoot {
		b = append(b, h.ConsensusRoot[:]...)
	}
	if !sealed {
		b = append(b, h.Seal...)
	}
	return b
}

func appendHash(b []byte, h common.Hash) []byte {
	return append(append(b, 0x80+common.HashLength), h[:]...)
}

// appendStringHeader appends the RLP prefix of a string of n > 1 bytes (or
// of one byte of 0x80 or more).
func appendStringHeader(b []byte, n int) []byte {
	if n < 56 {
		return append(b, byte(0x80+n))
	}
	return appendLength(b, 0xb7, uint64(n))
}

// appendLength appends base plus the length of n's big-endian bytes, then
// those bytes: the long form of an RLP prefix (base 0xb7 or 0xf7), or an
// integer of 1 to 8 bytes (base 0x80).
func appendLength(b []byte, base byte, n uint64) []byte {
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], n)
	k := 8
	for be[8-k] == 0 {
		k--
	}
	return append(append(b, base+byte(k)), be[8-k:]...)
}

// appendUint appends v as an RLP integer: big-endian, no leading zeros.
func appendUint(b []byte, v uint64) []byte {
	switch {
	case v == 0:
		return append(b, 0x80)
	case v < 0x80:
		return append(b, byte(v))
	}
	return appendLength(b, 0x80, v)
}

// appendBig appends |x| as an RLP integer.
func appendBig(b []byte, x *big.Int) []byte {
	if x.BitLen() <= 64 {
		return appendUint(b, x.Uint64()) // the low 64 bits of |x|
	}
	n := (x.BitLen() + 7) / 8
	b = appendStringHeader(b, n)
	b = append(b, make([]byte, n)...)
	x.FillBytes(b[len(b)-n:])
	return b
}

// decodeRLP reads the fields of an Ethereum header's RLP into a chaind
// header and checks those a chaind header fixes. It does not check that b
// is canonical: UnmarshalBinary re-encodes and compares.
func decodeRLP(b []byte) (Header, error) {
	var d Header
	list, rest, err := rlp.SplitList(b)
	if err != nil {
		return d, err
	}
	if len(rest) != 0 {
		return d, fmt.Errorf("%d bytes after the header", len(rest))
	}
	r := fieldReader{b: list}
	var uncles, mix common.Hash
	r.fixed("parent hash", d.ParentHash[:])
	r.fixed("uncle hash", uncles[:])
	r.fixed("coinbase", d.Coinbase[:])
	r.fixed("state root", d.StateRoot[:])
	r.fixed("transactions root", d.TxRoot[:])
	r.fixed("receipts root", d.ReceiptRoot[:])
	bloom := r.string("logs bloom")
	difficulty := r.string("difficulty")
	d.Height = r.uint("number")
	d.GasLimit = r.uint("gas limit")
	d.GasUsed = r.uint("gas used")
	secs := r.uint("time")
	extra := r.string("extra data")
	r.fixed("mix digest", mix[:])
	var nonce [8]byte
	r.fixed("nonce", nonce[:])
	if r.err == nil && len(r.b) == 0 {
		return d, errors.New("no base fee")
	}
	d.BaseFee = new(big.Int).SetBytes(r.string("base fee"))
	switch {
	case r.err != nil:
		return d, r.err
	case len(r.b) != 0:
		return d, errors.New("fields after the base fee")
	case uncles != types.EmptyUncleHash:
		return d, fmt.Errorf("uncle hash %x, want the empty list's", uncles)
	case len(bloom) != types.BloomByteLength || !allZero(bloom):
		return d, errors.New("non-zero logs bloom")
	case mix != common.Hash{}:
		return d, errors.New("non-zero mix digest")
	case len(extra) < ExtraPrefixSize:
		return d, fmt.Errorf("extra data of %d bytes, want at least %d", len(extra), ExtraPrefixSize)
	}
	ms := uint64(binary.BigEndian.Uint16(extra))
	seal := extra[ExtraPrefixSize:]
	if ms&rootFlag != 0 {
		ms &^= rootFlag
		if len(seal) < common.HashLength {
			return d, fmt.Errorf("extra data of %d bytes flags a consensus root it has no room for", len(extra))
		}
		d.ConsensusRoot = common.BytesToHash(seal[:common.HashLength])
		seal = seal[common.HashLength:]
	}
	switch {
	case len(seal) > MaxSealSize:
		return d, fmt.Errorf("seal of %d bytes, want at most %d", len(seal), MaxSealSize)
	case ms >= 1000:
		return d, fmt.Errorf("millisecond part %d is not below 1000", ms)
	case secs > (^uint64(0)-ms)/1000:
		return d, fmt.Errorf("time %d s overflows 64 bits of milliseconds", secs)
	}
	d.Time = secs*1000 + ms
	d.Bits = binary.BigEndian.Uint32(extra[2:])
	d.Nonce = binary.BigEndian.Uint64(nonce[:])
	if len(seal) > 0 {
		d.Seal = bytes.Clone(seal)
	}
	if work := Work(d.Bits); new(big.Int).SetBytes(difficulty).Cmp(work) != 0 {
		return d, fmt.Errorf("difficulty %x is not the work %v of bits %08x", difficulty, work, d.Bits)
	}
	return d, nil
}

// fieldReader reads the items of an RLP list one by one; the first error
// sticks and names its field.
type fieldReader struct {
	b   []byte
	err error
}

func (r *fieldReader) string(field string) []byte {
	if r.err != nil {
		return nil
	}
	s, rest, err := rlp.SplitString(r.b)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", field, err)
		return nil
	}
	r.b = rest
	return s
}

// fixed reads a string of exactly len(dst) bytes into dst.
func (r *fieldReader) fixed(field string, dst []byte) {
	s := r.string(field)
	if r.err == nil && len(s) != len(dst) {
		r.err = fmt.Errorf("%s of %d bytes, want %d", field, len(s), len(dst))
	}
	copy(dst, s)
}

func (r *fieldReader) uint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, rest, err := rlp.SplitUint64(r.b)
	if err != nil {
		r.err = fmt.Errorf("%s: %w", field, err)
		return 0
	}
	r.b = rest
	return v
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
