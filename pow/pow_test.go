package pow

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/big"
	"math/rand"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

func TestTemplateHashEqualsCryptoSHA256d(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		header := make([]byte, chain.HeaderSize)
		r.Read(header)
		tmpl := newTemplate(header)
		for j := 0; j < 4; j++ {
			nonce := r.Uint64()
			h := header
			for k := 0; k < 8; k++ {
				h[chain.HeaderNonceOffset+k] = byte(nonce >> (56 - 8*k))
			}
			first := sha256.Sum256(h)
			want := sha256.Sum256(first[:])
			if got := wordsToBytes(tmpl.hash(nonce)); got != want {
				t.Fatalf("header %d nonce %x: got %x want %x (SHA-NI: %v)", i, nonce, got, want, hasSHANI)
			}
			if got := wordsToBytes(tmpl.hashGo(nonce)); got != want {
				t.Fatalf("header %d nonce %x: pure Go path gives %x, want %x", i, nonce, got, want)
			}
		}
	}
}

func FuzzTemplateHash(f *testing.F) {
	f.Add(make([]byte, chain.HeaderSize), uint64(0))
	f.Fuzz(func(t *testing.T, header []byte, nonce uint64) {
		if len(header) != chain.HeaderSize {
			return
		}
		h := append([]byte(nil), header...)
		for k := 0; k < 8; k++ {
			h[chain.HeaderNonceOffset+k] = byte(nonce >> (56 - 8*k))
		}
		tmpl := newTemplate(header)
		first := sha256.Sum256(h)
		want := sha256.Sum256(first[:])
		if wordsToBytes(tmpl.hash(nonce)) != want || wordsToBytes(tmpl.hashGo(nonce)) != want {
			t.Fatal("midstate hash differs from crypto/sha256")
		}
	})
}

func testGenesis(difficulty int64) *chain.Genesis {
	g := &chain.Genesis{ChainID: 7, Consensus: chain.ConsensusPoW, BlockTime: chain.Duration(time.Second),
		HalfLife: chain.Duration(10 * time.Second), Difficulty: chain.NewBigInt(big.NewInt(difficulty)), Timestamp: 1_000_000}
	g.FillDefaults()
	return g
}

func TestASERTHoldsScheduleAndDoublesPerHalfLife(t *testing.T) {
	g := testGenesis(1 << 20)
	gen, _ := g.Block()
	anchor := chain.CompactToBig(gen.Header.Bits)
	at := func(height uint64, offset time.Duration) *big.Int {
		p := &chain.Header{Height: height, Time: gen.Header.Time + height*1000 + uint64(offset.Milliseconds())}
		if offset < 0 {
			p.Time = gen.Header.Time + height*1000 - uint64((-offset).Milliseconds())
		}
		return NextTarget(g, gen.Header, p)
	}
	if got := at(100, 0); got.Cmp(anchor) != 0 {
		t.Errorf("on schedule: target %x, want the anchor %x", got, anchor)
	}
	late := at(100, 10*time.Second) // one half-life behind: twice as easy
	if r := new(big.Float).Quo(new(big.Float).SetInt(late), new(big.Float).SetInt(anchor)); !near(r, 2) {
		t.Errorf("one half-life late: ratio %v, want 2", r)
	}
	early := at(100, -10*time.Second)
	if r := new(big.Float).Quo(new(big.Float).SetInt(anchor), new(big.Float).SetInt(early)); !near(r, 2) {
		t.Errorf("one half-life early: ratio %v, want 2", r)
	}
	half := at(100, 5*time.Second)
	if r := new(big.Float).Quo(new(big.Float).SetInt(half), new(big.Float).SetInt(anchor)); !near(r, 1.41421356) {
		t.Errorf("half a half-life late: ratio %v, want sqrt 2", r)
	}
	if at(10, time.Hour*1000).Cmp(maxTarget) != 0 {
		t.Error("a very late block should clamp to the easiest target")
	}
}

func near(r *big.Float, want float64) bool {
	f, _ := r.Float64()
	return f > want*0.999 && f < want*1.001
}

// openChain opens a real chain on an in-memory LevelDB with engine e.
func openChain(t *testing.T, g *chain.Genesis, e *Engine) *chain.Chain {
	t.Helper()
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSealedBlockVerifiesAndTamperingFails(t *testing.T) {
	g := testGenesis(5000)
	e := New(2)
	c := openChain(t, g, e)
	gen := &chain.Block{Header: c.GenesisHeader()}
	tmpl, err := c.BuildBlock(common.Address{1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := e.Seal(context.Background(), c, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.VerifyHeader(c, sealed.Header, gen.Header); err != nil {
		t.Fatalf("sealed header refused: %v", err)
	}
	if err := c.InsertBlock(sealed); err != nil || c.Head().Hash() != sealed.Hash() {
		t.Fatalf("chain refused the sealed block: %v", err)
	}
	bad := sealed.Header.Copy()
	for bad.Nonce++; e.VerifyHeader(c, bad, gen.Header) == nil; bad.Nonce++ {
	}
	if err := e.VerifyHeader(c, bad, gen.Header); !errors.Is(err, ErrBadPoW) {
		t.Fatalf("wrong nonce: %v", err)
	}
	wrongBits := sealed.Header.Copy()
	wrongBits.Bits--
	if err := e.VerifyHeader(c, wrongBits, gen.Header); !errors.Is(err, ErrBadBits) {
		t.Fatalf("wrong bits: %v", err)
	}
}

func TestSealStopsOnCancel(t *testing.T) {
	g := testGenesis(1 << 62) // unreachable
	e := New(2)
	c := openChain(t, g, e)
	gen := &chain.Block{Header: c.GenesisHeader()}
	h := &chain.Header{ParentHash: gen.Hash(), Height: 1, Time: gen.Header.Time + 1000}
	if err := e.Prepare(c, h, gen.Header); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := e.Seal(ctx, c, &chain.Block{Header: h})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Seal ignored cancellation")
	}
}

func BenchmarkCompress(b *testing.B) {
	var h = sha256IV
	var w [16]uint32
	for i := 0; i < b.N; i++ {
		compress(&h, &w)
	}
	b.SetBytes(64)
}

// BenchmarkNonceLoopGo is the pure-Go path, for comparison.
func BenchmarkNonceLoopGo(b *testing.B) {
	tmpl := newTemplate(make([]byte, chain.HeaderSize))
	var zero [8]uint32
	for i := 0; i < b.N; i++ {
		h := tmpl.hashGo(uint64(i))
		if lessOrEqual(&h, &zero) {
			b.Fatal("impossible")
		}
	}
}

// BenchmarkNonceLoop is the miner's per-nonce work (SHA-NI when available).
func BenchmarkNonceLoop(b *testing.B) {
	tmpl := newTemplate(make([]byte, chain.HeaderSize))
	var zero [8]uint32
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := tmpl.hash(uint64(i))
		if lessOrEqual(&h, &zero) {
			b.Fatal("impossible")
		}
	}
}

func TestNonceLoopAllocatesNothing(t *testing.T) {
	tmpl := newTemplate(make([]byte, chain.HeaderSize))
	var zero [8]uint32
	var stop atomic.Bool
	var hashes atomic.Uint64
	if n := testing.AllocsPerRun(10, func() { scan(&tmpl, &zero, 0, 4096, &stop, &hashes) }); n != 0 {
		t.Fatalf("%v allocations per scan of 4096 nonces", n)
	}
}
