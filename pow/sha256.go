package pow

import (
	"encoding/binary"
	"math/bits"
)

// A SHA-256 compression function that works on a state the caller keeps, so
// that the miner prepares a header's padded chunk once per template and per
// nonce only writes the nonce into it and runs the two compressions.

var k256 = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// sha256IV is SHA-256's initial state.
var sha256IV = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// compress applies one SHA-256 compression of the 16 big-endian words w to h.
func compress(h *[8]uint32, w *[16]uint32) {
	var s [64]uint32
	copy(s[:16], w[:])
	for i := 16; i < 64; i++ {
		v1, v2 := s[i-2], s[i-15]
		t1 := bits.RotateLeft32(v1, -17) ^ bits.RotateLeft32(v1, -19) ^ (v1 >> 10)
		t2 := bits.RotateLeft32(v2, -7) ^ bits.RotateLeft32(v2, -18) ^ (v2 >> 3)
		s[i] = t1 + s[i-7] + t2 + s[i-16]
	}
	a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for i := 0; i < 64; i++ {
		t1 := hh + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) +
			((e & f) ^ (^e & g)) + k256[i] + s[i]
		t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) +
			((a & b) ^ (a & c) ^ (b & c))
		hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
	}
	h[0] += a
	h[1] += b
	h[2] += c
	h[3] += d
	h[4] += e
	h[5] += f
	h[6] += g
	h[7] += hh
}

func wordsOf(chunk []byte) (w [16]uint32) {
	for i := range w {
		w[i] = binary.BigEndian.Uint32(chunk[4*i:])
	}
	return w
}

// The puzzle is SHA-256d of a header's seal hash followed by the nonce,
// big-endian: 40 bytes, which with SHA-256's padding fill one 64-byte chunk.
// So the first hash is one compression from the IV and the second another,
// two per nonce, and the nonce sits at words 8 and 9 of that chunk.
const (
	puzzleLen = 32 + 8
	nonceWord = 8
)

// template is a seal hash prepared for nonce search: the state the chunk is
// compressed on (SHA-256's IV) and the padded chunk, nonce words zero.
type template struct {
	mid  [8]uint32
	tail [16]uint32
}

// newTemplate prepares the search over sealHash.
func newTemplate(sealHash [32]byte) template {
	var last [64]byte
	copy(last[:], sealHash[:])
	last[puzzleLen] = 0x80
	binary.BigEndian.PutUint64(last[56:], puzzleLen*8)
	return template{mid: sha256IV, tail: wordsOf(last[:])}
}

// putNonce writes nonce into the chunk w, in place: the miner's loop copies
// no more than the chunk it hands to the kernel.
func putNonce(w *[16]uint32, nonce uint64) {
	w[nonceWord] = uint32(nonce >> 32)
	w[nonceWord+1] = uint32(nonce)
}

// hash returns SHA-256d of the seal hash with nonce, as eight big-endian words,
// with the SHA-NI instructions when the CPU has them.
func (t *template) hash(nonce uint64) [8]uint32 {
	if hasSHANI {
		w := t.tail
		putNonce(&w, nonce)
		var out [8]uint32
		sha256dSHANI(&t.mid, &w, &out)
		return out
	}
	return t.hashGo(nonce)
}

// hash2 returns the hashes of nonce and nonce+1: with SHA-NI in one
// two-lane pass, which costs little more than one.
func (t *template) hash2(nonce uint64) (a, b [8]uint32) {
	if !hasSHANI {
		return t.hashGo(nonce), t.hashGo(nonce + 1)
	}
	wa, wb := t.tail, t.tail
	putNonce(&wa, nonce)
	putNonce(&wb, nonce+1)
	sha256d2SHANI(&t.mid, &wa, &wb, &a, &b)
	return a, b
}

// hashGo is hash in plain Go.
func (t *template) hashGo(nonce uint64) [8]uint32 {
	w := t.tail
	putNonce(&w, nonce)
	first := t.mid
	compress(&first, &w)
	var w2 [16]uint32
	copy(w2[:8], first[:])
	w2[8] = 0x80000000
	w2[15] = 256
	out := sha256IV
	compress(&out, &w2)
	return out
}

// wordsToBytes writes the eight words big-endian.
func wordsToBytes(h [8]uint32) (out [32]byte) {
	for i, v := range h {
		binary.BigEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// lessOrEqual compares two 256-bit big-endian numbers given as words.
func lessOrEqual(a, b *[8]uint32) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return true
}
