package chain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

func randomHeader(r *rand.Rand) *Header {
	h := &Header{Height: r.Uint64(), Time: r.Uint64(), GasLimit: r.Uint64(), GasUsed: r.Uint64(), Bits: r.Uint32(), Nonce: r.Uint64(),
		BaseFee: new(big.Int).Rand(r, new(big.Int).Lsh(big.NewInt(1), uint(r.Intn(90))))}
	r.Read(h.ParentHash[:])
	r.Read(h.TxRoot[:])
	r.Read(h.ReceiptRoot[:])
	r.Read(h.StateRoot[:])
	r.Read(h.Coinbase[:])
	if r.Intn(2) == 0 {
		h.Seal = make([]byte, r.Intn(MaxSealSize+1))
		r.Read(h.Seal)
	}
	if r.Intn(2) == 0 {
		r.Read(h.ConsensusRoot[:])
	}
	return h
}

// sealedExtra is the part of extraData the seal hash covers: the prefix and
// the consensus root, if any.
func sealedExtra(h *Header, extra []byte) []byte {
	if h.ConsensusRoot != (common.Hash{}) {
		return extra[:ExtraPrefixSize+common.HashLength]
	}
	return extra[:ExtraPrefixSize]
}

// sameHeader reports whether a and b have equal fields (a nil seal equals an
// empty one).
func sameHeader(a, b *Header) bool {
	x, y := *a, *b
	x.Seal, y.Seal, x.BaseFee, y.BaseFee = nil, nil, nil, nil
	return reflect.DeepEqual(x, y) && bytes.Equal(a.Seal, b.Seal) && a.BaseFee.Cmp(b.BaseFee) == 0
}

func TestHeaderEncodingRoundTripAndHash(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		h := randomHeader(r)
		enc, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var dec Header
		if err := dec.UnmarshalBinary(enc); err != nil {
			t.Fatalf("header %d: %v", i, err)
		}
		enc2, _ := dec.MarshalBinary()
		if !bytes.Equal(enc, enc2) || !sameHeader(h, &dec) {
			t.Fatalf("round trip changed header %d:\n%+v\n%+v", i, h, &dec)
		}
		if h.Hash() != crypto.Keccak256Hash(enc) || h.Hash() != h.Ethereum().Hash() {
			t.Fatalf("header %d: hash is not keccak256 of the encoding", i)
		}
		// What an Ethereum client decodes from the encoding hashes alike.
		var eth types.Header
		if err := rlp.DecodeBytes(enc, &eth); err != nil || eth.Hash() != h.Hash() {
			t.Fatalf("header %d: go-ethereum's header: %v", i, err)
		}
		if eth.Number.Uint64() != h.Height || eth.Time != h.Time/1000 || eth.Nonce.Uint64() != h.Nonce || eth.Root != h.StateRoot {
			t.Fatalf("header %d: Ethereum fields do not match", i)
		}
		// The seal hash leaves out the nonce and the seal, and only them.
		sealed := eth
		sealed.Nonce, sealed.Extra = types.BlockNonce{}, sealedExtra(h, eth.Extra)
		if h.SealHash() != sealed.Hash() {
			t.Fatalf("header %d: seal hash is not the hash without nonce and seal", i)
		}
		other := h.Copy()
		other.Nonce++
		other.Seal = append(other.Seal[:0:0], 1)
		if other.SealHash() != h.SealHash() || other.Hash() == h.Hash() {
			t.Fatalf("header %d: nonce and seal must change the hash and not the seal hash", i)
		}
	}
}

// TestHeaderHashCoversEveryField changes each field in turn: the hash must
// change every time (no two headers share a hash), and the seal hash with
// every field but the nonce and the seal.
func TestHeaderHashCoversEveryField(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	edits := map[string]func(h *Header){
		"ParentHash":   func(h *Header) { h.ParentHash[31] ^= 1 },
		"TxRoot":       func(h *Header) { h.TxRoot[0] ^= 1 },
		"ReceiptRoot":  func(h *Header) { h.ReceiptRoot[5] ^= 1 },
		"StateRoot":    func(h *Header) { h.StateRoot[9] ^= 1 },
		"Coinbase":     func(h *Header) { h.Coinbase[19] ^= 1 },
		"Height":       func(h *Header) { h.Height ^= 1 },
		"Time ms":      func(h *Header) { h.Time = h.Time/1000*1000 + (h.Time%1000+1)%1000 },
		"Time s":       func(h *Header) { h.Time ^= 1 << 40 },
		"GasLimit":     func(h *Header) { h.GasLimit ^= 1 },
		"GasUsed":      func(h *Header) { h.GasUsed ^= 1 },
		"BaseFee":      func(h *Header) { h.BaseFee = new(big.Int).Add(h.BaseFee, big.NewInt(1)) },
		"Bits":         func(h *Header) { h.Bits ^= 1 << 24 },
		"Bits low":     func(h *Header) { h.Bits ^= 1 },
		"Nonce":        func(h *Header) { h.Nonce ^= 1 << 63 },
		"Seal":         func(h *Header) { h.Seal = append(h.Seal[:len(h.Seal):len(h.Seal)], 0) },
		"Seal content": func(h *Header) { h.Seal = []byte{0} },
		"ConsensusRoot": func(h *Header) {
			if h.ConsensusRoot[0] ^= 1; h.ConsensusRoot == (common.Hash{}) {
				h.ConsensusRoot[1] = 1
			}
		},
	}
	for i := 0; i < 50; i++ {
		h := randomHeader(r)
		h.Seal = []byte{1, 2, 3}
		for name, edit := range edits {
			e := h.Copy()
			edit(e)
			if e.Hash() == h.Hash() {
				t.Fatalf("changing %s left the hash unchanged", name)
			}
			unsealed := name == "Nonce" || strings.HasPrefix(name, "Seal")
			if (e.SealHash() == h.SealHash()) != unsealed {
				t.Fatalf("changing %s: seal hash changed %v, want %v", name, e.SealHash() != h.SealHash(), !unsealed)
			}
		}
	}
}

func TestHeaderDecodingIsStrict(t *testing.T) {
	h := randomHeader(rand.New(rand.NewSource(6)))
	h.Seal = []byte{7}
	enc := func(e *types.Header) []byte {
		b, err := rlp.EncodeToBytes(e)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := enc(h.Ethereum())
	bad := map[string][]byte{
		"empty":           {},
		"not a list":      {0x80},
		"trailing byte":   append(append([]byte(nil), good...), 0),
		"truncated":       good[:len(good)-1],
		"oversized":       make([]byte, MaxHeaderSize+1),
		"legacy 152-byte": make([]byte, 152),
	}
	edits := map[string]func(e *types.Header){
		"uncle hash":  func(e *types.Header) { e.UncleHash = common.Hash{1} },
		"bloom":       func(e *types.Header) { e.Bloom[0] = 1 },
		"mix digest":  func(e *types.Header) { e.MixDigest[0] = 1 },
		"no base fee": func(e *types.Header) { e.BaseFee = nil },
		"withdrawals": func(e *types.Header) { e.WithdrawalsHash = &common.Hash{} },
		"blob gas": func(e *types.Header) {
			e.BlobGasUsed = new(uint64)
			e.ExcessBlobGas = new(uint64)
			e.WithdrawalsHash = &common.Hash{}
		},
		"short extra":       func(e *types.Header) { e.Extra = e.Extra[:ExtraPrefixSize-1] },
		"long extra":        func(e *types.Header) { e.Extra = make([]byte, ExtraPrefixSize+MaxSealSize+1) },
		"ms 1000":           func(e *types.Header) { e.Extra[0], e.Extra[1] = 0x03, 0xe8 },
		"difficulty":        func(e *types.Header) { e.Difficulty = new(big.Int).Add(e.Difficulty, big.NewInt(1)) },
		"number > 64 bits":  func(e *types.Header) { e.Number = new(big.Int).Lsh(big.NewInt(1), 64) },
		"time overflows ms": func(e *types.Header) { e.Time = ^uint64(0) / 999 },
	}
	for name, edit := range edits {
		e := h.Ethereum()
		edit(e)
		bad[name] = enc(e)
	}
	for name, data := range bad {
		var d Header
		err := d.UnmarshalBinary(data)
		if err == nil || !strings.HasPrefix(err.Error(), "decode header: ") {
			t.Errorf("%s: got %v, want a decoding error", name, err)
		}
		if d.Seal != nil || d.Height != 0 {
			t.Errorf("%s: a refused decoding changed the header", name)
		}
	}
	var d Header
	if err := d.UnmarshalBinary(good); err != nil || d.Hash() != h.Hash() {
		t.Fatalf("the unedited encoding: %v", err)
	}
}

func TestWork(t *testing.T) {
	if Work(0).Sign() != 0 || Work(0x04800001).Sign() != 0 {
		t.Fatal("bits 0 and a negative target must show no work")
	}
	for _, bits := range []uint32{0x1d00ffff, 0x207fffff, 0x03000001} {
		if Work(bits).Cmp(DifficultyForTarget(CompactToBig(bits))) != 0 {
			t.Fatalf("bits %08x: work %v", bits, Work(bits))
		}
	}
}

func TestCompactRoundTrip(t *testing.T) {
	for _, s := range []string{"1", "255", "65535", "8388608", "123456789abcdef", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"} {
		n, _ := new(big.Int).SetString(s, 16)
		c := BigToCompact(n)
		back := CompactToBig(c)
		if back.Cmp(n) > 0 || BigToCompact(back) != c {
			t.Errorf("%s: compact %08x decodes to %x", s, c, back)
		}
		if n.BitLen() <= 23 && back.Cmp(n) != 0 {
			t.Errorf("%s: small value lost precision", s)
		}
	}
}

func TestStateRootCommitsToEveryAccountInAnyOrder(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	addrs := make([]common.Address, 300)
	for i := range addrs {
		r.Read(addrs[i][:])
	}
	a, b := NewState(), NewState()
	empty := a.Root()
	for i, addr := range addrs {
		a.Set(addr, Account{Nonce: uint64(i), Balance: big.NewInt(int64(i))})
	}
	for i := len(addrs) - 1; i >= 0; i-- {
		b.Set(addrs[i], Account{Nonce: uint64(i), Balance: big.NewInt(int64(i))})
	}
	if a.Root() != b.Root() || a.Root() == empty {
		t.Fatal("root depends on insertion order or ignores accounts")
	}
	before := a.Root()
	mark := a.Mark()
	a.Set(addrs[17], Account{Nonce: 17, Balance: big.NewInt(18)})
	changed := a.Root()
	if changed == before {
		t.Fatal("a balance change left the root unchanged")
	}
	a.Set(common.Address{0xff, 0xff}, Account{Balance: new(big.Int)})
	if a.Root() == changed {
		t.Fatal("a new empty account left the root unchanged")
	}
	a.RevertTo(mark)
	if a.Root() != before {
		t.Fatal("revert did not restore the root")
	}
	fresh := NewState()
	for _, k := range addrs {
		v, _ := a.Get(k)
		fresh.Set(k, v)
	}
	if fresh.Root() != before {
		t.Fatal("incremental root differs from a fresh computation")
	}
}

func FuzzHeaderDecode(f *testing.F) {
	r := rand.New(rand.NewSource(3))
	for _, seal := range []int{-1, 0, 130, MaxSealSize} {
		h := randomHeader(r)
		if seal >= 0 {
			h.Seal = make([]byte, seal)
		}
		enc, _ := h.MarshalBinary()
		f.Add(enc)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var h Header
		if err := h.UnmarshalBinary(data); err != nil {
			agree(t, data)
			return
		}
		enc, err := h.MarshalBinary()
		if err != nil || !bytes.Equal(enc, data) {
			t.Fatalf("decoded header does not re-encode to its input")
		}
		if h.Hash() != crypto.Keccak256Hash(data) {
			t.Fatalf("hash is not keccak256 of the encoding")
		}
		agree(t, data)
	})
}

func FuzzBlockDecode(f *testing.F) {
	b := &Block{Header: randomHeader(rand.New(rand.NewSource(4)))}
	enc, _ := b.MarshalBinary()
	f.Add(enc)
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Block
		if err := b.UnmarshalBinary(data); err != nil {
			return
		}
		if _, err := b.MarshalBinary(); err != nil {
			t.Fatalf("decoded block does not re-encode: %v", err)
		}
	})
}

// TestOpenRefusesAnOlderBlockFormat: a data directory written before block
// hashes became Ethereum's (no format marker) is refused with a message
// that says so, not misread.
func TestOpenRefusesAnOlderBlockFormat(t *testing.T) {
	dir := t.TempDir()
	s, _, err := openTestChain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Delete(keyBlockFormat, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, _, err := openTestChain(t, dir); err == nil || !strings.Contains(err.Error(), "format 1, this chaind reads format 2") {
		t.Fatalf("opened a format-1 database: %v", err)
	}
}

// TestOpenRefusesAnOlderStateFormat: a data directory whose accounts are
// in the flat table of before the state trie (no state format marker) is
// refused with a message that says so, not misread.
func TestOpenRefusesAnOlderStateFormat(t *testing.T) {
	dir := t.TempDir()
	s, _, err := openTestChain(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Delete(keyStateFormat, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, _, err := openTestChain(t, dir); err == nil || !strings.Contains(err.Error(), "its state in format 1, this chaind reads format 2 (accounts moved into a Merkle-Patricia trie") {
		t.Fatalf("opened a state-format-1 database: %v", err)
	}
}

// BenchmarkHeaderHash is the block hash of a PoS-sized header (130-byte
// seal): the hand-written encoding and keccak256, against go-ethereum's
// types.Header built and hashed (the reference for the ratio).
func BenchmarkHeaderHash(b *testing.B) {
	h := randomHeader(rand.New(rand.NewSource(7)))
	h.Seal = make([]byte, 130)
	b.Run("chaind", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.Hash()
		}
	})
	b.Run("go-ethereum", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.Ethereum().Hash()
		}
	})
}

// TestFastEncodingIsGoEthereums holds the hand-written encoding to
// go-ethereum's RLP of h.Ethereum(), hash and seal hash, on headers whose
// integers are zero, single bytes, every width up to 64 bits and beyond (a
// base fee or a work above 64 bits), with seals of every length.
func TestFastEncodingIsGoEthereums(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	num := func() uint64 {
		switch r.Intn(4) {
		case 0:
			return 0
		case 1:
			return uint64(r.Intn(0x100))
		}
		return r.Uint64() >> r.Intn(64)
	}
	bits := []uint32{0, 1, 0x04800001, 0x1d00ffff, 0x207fffff, 0x03000001, 0x01003456, 0xff7fffff}
	for i := 0; i < 3000; i++ {
		h := randomHeader(r)
		h.Height, h.Time, h.GasLimit, h.GasUsed, h.Nonce = num(), num(), num(), num(), num()
		h.Bits = bits[r.Intn(len(bits))]
		if r.Intn(3) == 0 {
			h.Bits = r.Uint32()
		}
		switch r.Intn(4) {
		case 0:
			h.BaseFee = nil
		case 1:
			h.BaseFee = new(big.Int).SetUint64(num())
		}
		h.Seal = make([]byte, r.Intn(MaxSealSize+1))
		r.Read(h.Seal)
		want, err := rlp.EncodeToBytes(h.Ethereum())
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.MarshalBinary()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("header %d (%+v): encoding\n%x\nwant\n%x", i, h, got, want)
		}
		sealed := h.Ethereum()
		sealed.Nonce, sealed.Extra = types.BlockNonce{}, sealedExtra(h, sealed.Extra)
		if h.Hash() != h.Ethereum().Hash() || h.SealHash() != sealed.Hash() {
			t.Fatalf("header %d: hash or seal hash differs from go-ethereum's", i)
		}
	}
}

// TestHashMemoIsExactAndBounded: remembered hashes are keyed by the whole
// encoding, so a copy, an edited header or a header decoded anew gets its
// own hash; the memo never holds more than maxCachedHashes, however many
// headers pass (two goroutines at once, for the race detector).
func TestHashMemoIsExactAndBounded(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed))
			for i := 0; i < maxCachedHashes+500; i++ {
				h := randomHeader(r)
				first := h.Hash()
				h.Nonce++
				if h.Hash() != h.Ethereum().Hash() || h.Hash() == first {
					t.Errorf("header %d: the remembered hash outlived an edit", i)
					return
				}
			}
		}(int64(10 + g))
	}
	wg.Wait()
	hashes.Lock()
	n := len(hashes.m)
	hashes.Unlock()
	if n > maxCachedHashes {
		t.Fatalf("the memo holds %d hashes, more than %d", n, maxCachedHashes)
	}
}

// TestHashOfAnOversizedSeal: a header no encoding carries (a seal of 70,000
// bytes, whose list needs a 3-byte length) still hashes as go-ethereum
// hashes its Ethereum header.
func TestHashOfAnOversizedSeal(t *testing.T) {
	for _, n := range []int{MaxSealSize + 1, 9000, 65000, 70000} {
		h := randomHeader(rand.New(rand.NewSource(int64(n))))
		h.Seal = make([]byte, n)
		if h.Hash() != h.Ethereum().Hash() {
			t.Fatalf("seal of %d bytes: hash differs from go-ethereum's", n)
		}
		if _, err := h.MarshalBinary(); err == nil {
			t.Fatalf("seal of %d bytes encoded", n)
		}
	}
}

// decodeViaGoEthereum is the reference for UnmarshalBinary: go-ethereum's
// RLP decoder into a types.Header, the same checks, the same canonical
// test. The fuzz target and TestDecoderAgreesWithGoEthereum hold the
// hand-written decoder to it.
func decodeViaGoEthereum(h *Header, b []byte) error {
	if len(b) > MaxHeaderSize {
		return errHeader("%d bytes exceed the %d-byte limit", len(b), MaxHeaderSize)
	}
	var e types.Header
	if err := rlp.DecodeBytes(b, &e); err != nil {
		return errHeader("%w", err)
	}
	if err := checkEthereum(&e); err != nil {
		return errHeader("%w", err)
	}
	ms, seal := binary.BigEndian.Uint16(e.Extra)&^rootFlag, e.Extra[ExtraPrefixSize:]
	var root common.Hash
	if binary.BigEndian.Uint16(e.Extra)&rootFlag != 0 {
		root, seal = common.BytesToHash(seal[:common.HashLength]), seal[common.HashLength:]
	}
	d := Header{
		ParentHash:    e.ParentHash,
		TxRoot:        e.TxHash,
		ReceiptRoot:   e.ReceiptHash,
		StateRoot:     e.Root,
		Coinbase:      e.Coinbase,
		Height:        e.Number.Uint64(),
		Time:          e.Time*1000 + uint64(ms),
		GasLimit:      e.GasLimit,
		GasUsed:       e.GasUsed,
		BaseFee:       e.BaseFee,
		Bits:          binary.BigEndian.Uint32(e.Extra[2:]),
		Nonce:         e.Nonce.Uint64(),
		ConsensusRoot: root,
	}
	if len(seal) > 0 {
		d.Seal = bytes.Clone(seal)
	}
	if e.Difficulty.Cmp(Work(d.Bits)) != 0 {
		return errHeader("difficulty %v is not the work %v of bits %08x", e.Difficulty, Work(d.Bits), d.Bits)
	}
	if again := d.appendRLP(make([]byte, 0, len(b)), false); !bytes.Equal(again, b) {
		return errHeader("not in canonical form")
	}
	*h = d
	return nil
}

// checkEthereum checks the fields of e that a chaind header fixes.
func checkEthereum(e *types.Header) error {
	switch {
	case e.UncleHash != types.EmptyUncleHash:
		return fmt.Errorf("uncle hash %x, want the empty list's", e.UncleHash)
	case e.Bloom != types.Bloom{}:
		return errors.New("non-zero logs bloom")
	case e.MixDigest != common.Hash{}:
		return errors.New("non-zero mix digest")
	case e.BaseFee == nil:
		return errors.New("no base fee")
	case e.WithdrawalsHash != nil || e.BlobGasUsed != nil || e.ExcessBlobGas != nil || e.ParentBeaconRoot != nil ||
		e.RequestsHash != nil || e.BlockAccessListHash != nil || e.SlotNumber != nil:
		return errors.New("fields after the base fee")
	case !e.Number.IsUint64():
		return fmt.Errorf("number %v exceeds 64 bits", e.Number)
	case len(e.Extra) < ExtraPrefixSize:
		return fmt.Errorf("extra data of %d bytes, want at least %d", len(e.Extra), ExtraPrefixSize)
	}
	ms, seal := binary.BigEndian.Uint16(e.Extra), len(e.Extra)-ExtraPrefixSize
	if ms&rootFlag != 0 {
		ms &^= rootFlag
		seal -= common.HashLength
	}
	switch {
	case seal < 0:
		return errors.New("extra data flags a consensus root it has no room for")
	case seal > MaxSealSize:
		return fmt.Errorf("seal of %d bytes, want at most %d", seal, MaxSealSize)
	case ms >= 1000:
		return fmt.Errorf("millisecond part %d is not below 1000", ms)
	case e.Time > (^uint64(0)-uint64(ms))/1000:
		return fmt.Errorf("time %d s overflows 64 bits of milliseconds", e.Time)
	}
	return nil
}

// TestDecoderAgreesWithGoEthereum: on valid headers and on every one-byte
// change, truncation and extension of them, the hand-written decoder
// accepts exactly what go-ethereum's decoder with the same checks accepts,
// and decodes the same header.
func TestDecoderAgreesWithGoEthereum(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	for i := 0; i < 40; i++ {
		h := randomHeader(r)
		if i%4 == 0 {
			h.Seal = nil
		}
		enc, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		inputs := [][]byte{enc, enc[:len(enc)-1], append(append([]byte(nil), enc...), 0x80)}
		for j := 0; j < 300; j++ {
			m := append([]byte(nil), enc...)
			m[r.Intn(len(m))] = byte(r.Intn(256))
			inputs = append(inputs, m)
		}
		for _, in := range inputs {
			agree(t, in)
		}
	}
}

// agree fails t unless UnmarshalBinary and decodeViaGoEthereum agree on in.
func agree(t *testing.T, in []byte) {
	t.Helper()
	var got, want Header
	errGot, errWant := got.UnmarshalBinary(in), decodeViaGoEthereum(&want, in)
	if (errGot == nil) != (errWant == nil) {
		t.Fatalf("input %x: decoder says %v, go-ethereum's says %v", in, errGot, errWant)
	}
	if errGot == nil && !sameHeader(&got, &want) {
		t.Fatalf("input %x: decoded\n%+v\ngo-ethereum's\n%+v", in, &got, &want)
	}
}
