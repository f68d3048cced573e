package chain

import (
	"bytes"
	"crypto/sha256"
	"math/big"
	"math/rand"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func randomHeader(r *rand.Rand) *Header {
	h := &Header{Height: r.Uint64(), Time: r.Uint64(), GasUsed: r.Uint64(), Bits: r.Uint32(), Nonce: r.Uint64()}
	r.Read(h.ParentHash[:])
	r.Read(h.TxRoot[:])
	r.Read(h.StateRoot[:])
	r.Read(h.Coinbase[:])
	if r.Intn(2) == 0 {
		h.Seal = make([]byte, r.Intn(MaxSealSize+1))
		r.Read(h.Seal)
	}
	return h
}

func TestHeaderEncodingRoundTripAndLayout(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 200; i++ {
		h := randomHeader(r)
		enc, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var dec Header
		if err := dec.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		enc2, _ := dec.MarshalBinary()
		if !bytes.Equal(enc, enc2) || dec.Hash() != h.Hash() {
			t.Fatalf("round trip changed header %d", i)
		}
		fixed := enc[:HeaderSize]
		first := sha256.Sum256(fixed)
		if want := common.Hash(sha256.Sum256(first[:])); h.Hash() != want {
			t.Fatal("hash is not SHA-256d of the fixed encoding")
		}
		if got := new(big.Int).SetBytes(fixed[HeaderNonceOffset:]).Uint64(); got != h.Nonce {
			t.Fatal("nonce is not the last 8 bytes")
		}
	}
	for _, n := range []int{0, HeaderSize - 1, HeaderSize + MaxSealSize + 1} {
		if err := new(Header).UnmarshalBinary(make([]byte, n)); err == nil {
			t.Errorf("decoded a %d-byte header", n)
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
	for k, v := range a.accounts {
		fresh.Set(k, v)
	}
	if fresh.Root() != before {
		t.Fatal("incremental root differs from a fresh computation")
	}
}

func FuzzHeaderDecode(f *testing.F) {
	h := randomHeader(rand.New(rand.NewSource(3)))
	enc, _ := h.MarshalBinary()
	f.Add(enc)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var h Header
		if err := h.UnmarshalBinary(data); err != nil {
			return
		}
		enc, err := h.MarshalBinary()
		if err != nil || !bytes.Equal(enc, data) {
			t.Fatalf("decoded header does not re-encode to its input")
		}
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
