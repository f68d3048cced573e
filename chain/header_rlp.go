package chain

import (
	"encoding/binary"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
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
// zero and extraData cut to ExtraPrefixSize). A negative base fee, which
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
	seal := h.Seal
	if sealed {
		seal = nil
	}
	var prefix [ExtraPrefixSize]byte
	binary.BigEndian.PutUint16(prefix[:], uint16(h.Time%1000))
	binary.BigEndian.PutUint32(prefix[2:], h.Bits)
	b = appendStringHeader(b, ExtraPrefixSize+len(seal))
	b = append(b, prefix[:]...)
	b = append(b, seal...)
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
