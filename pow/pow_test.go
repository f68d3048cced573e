package pow

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"math/rand"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// sha256d is the reference: crypto/sha256 twice over the seal hash followed
// by the nonce, big-endian.
func sha256d(sealHash [32]byte, nonce uint64) [32]byte {
	first := sha256.Sum256(binary.BigEndian.AppendUint64(sealHash[:], nonce))
	return sha256.Sum256(first[:])
}

// checkPaths compares every path (pure Go, SHA-NI one lane, SHA-NI two
// lanes for nonce and nonce+1) with crypto/sha256.
func checkPaths(t *testing.T, sealHash [32]byte, nonce uint64) {
	t.Helper()
	tmpl := newTemplate(sealHash)
	want, wantNext := sha256d(sealHash, nonce), sha256d(sealHash, nonce+1)
	if got := wordsToBytes(tmpl.hashGo(nonce)); got != want {
		t.Fatalf("nonce %x: pure Go path gives %x, want %x", nonce, got, want)
	}
	if got := wordsToBytes(tmpl.hash(nonce)); got != want {
		t.Fatalf("nonce %x: one-lane path gives %x, want %x (SHA-NI: %v)", nonce, got, want, hasSHANI)
	}
	a, b := tmpl.hash2(nonce)
	if wordsToBytes(a) != want || wordsToBytes(b) != wantNext {
		t.Fatalf("nonce %x: two-lane path gives %x, %x; want %x, %x (SHA-NI: %v)", nonce, wordsToBytes(a), wordsToBytes(b), want, wantNext, hasSHANI)
	}
}

func TestTemplateHashEqualsCryptoSHA256d(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	// Nonces where the second lane's nonce carries into the high word or
	// wraps, and random ones.
	edges := []uint64{0, 1, 0xffffffff, 0x1_ffffffff, ^uint64(0) - 1, ^uint64(0)}
	for i := 0; i < 500; i++ {
		var sealHash [32]byte
		r.Read(sealHash[:])
		nonces := []uint64{r.Uint64(), r.Uint64()}
		if i < len(edges) {
			nonces = append(nonces, edges[i])
		}
		for _, nonce := range nonces {
			checkPaths(t, sealHash, nonce)
		}
	}
}

func FuzzTemplateHash(f *testing.F) {
	f.Add(make([]byte, 32), uint64(0))
	f.Add(make([]byte, 32), uint64(0xffffffff))
	f.Fuzz(func(t *testing.T, sealHash []byte, nonce uint64) {
		if len(sealHash) != 32 {
			return
		}
		checkPaths(t, [32]byte(sealHash), nonce)
	})
}

func testGenesis(difficulty int64) *chain.Genesis {
	g := &chain.Genesis{ChainID: 7, Consensus: chain.ConsensusPoW, BlockTime: chain.Duration(time.Second),
		Engine: &GenesisConfig{HalfLife: chain.Duration(10 * time.Second), Difficulty: chain.NewBigInt(big.NewInt(difficulty))}, Timestamp: 1_000_000}
	g.FillDefaults()
	return g
}

func TestRuleStepsByHalfLifeAndCapsTheSolveTime(t *testing.T) {
	g := testGenesis(1 << 20) // T = 1 s, H = 10 s, F = 2 s: C = 8 s
	gen, _ := g.Block(New(1))
	if got := NextTarget(g, nil, gen.Header); got.Cmp(chain.CompactToBig(gen.Header.Bits)) != 0 {
		t.Errorf("genesis's child: target %x, want genesis's", got)
	}
	parent := &chain.Header{Height: 5, Time: gen.Header.Time + 5000, Bits: gen.Header.Bits}
	base := chain.CompactToBig(parent.Bits)
	ratio := func(solve time.Duration) float64 {
		grand := &chain.Header{Height: 4, Time: parent.Time - uint64(solve.Milliseconds())}
		r, _ := new(big.Float).Quo(new(big.Float).SetInt(NextTarget(g, grand, parent)), new(big.Float).SetInt(base)).Float64()
		return r
	}
	for _, c := range []struct {
		solve time.Duration
		want  float64
	}{
		{time.Second, 1},                         // on time: unchanged
		{6 * time.Second, 1.41421356},            // half a half-life late
		{time.Millisecond, math.Pow(2, -0.0999)}, // early by T - 1 ms
		{8 * time.Second, math.Pow(2, 0.7)},      // at the cap
		{time.Hour, math.Pow(2, 0.7)},            // a stall counts as the cap
		{9 * time.Second, math.Pow(2, 0.7)},      // just past the cap
		{1500 * time.Millisecond, math.Pow(2, 0.05)},
	} {
		if got := ratio(c.solve); got < c.want*0.999 || got > c.want*1.001 {
			t.Errorf("solve time %v: ratio %.5f, want %.5f", c.solve, got, c.want)
		}
	}
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
	value := Value(sealed.Header)
	if value != sha256d(sealed.Header.SealHash(), sealed.Header.Nonce) || new(big.Int).SetBytes(value[:]).Cmp(chain.CompactToBig(sealed.Header.Bits)) > 0 {
		t.Fatalf("proof-of-work value %x is not SHA-256d(seal hash, nonce) within the target", value)
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
	tmpl := newTemplate([32]byte{})
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
	tmpl := newTemplate([32]byte{})
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
	tmpl := newTemplate([32]byte{})
	var zero [8]uint32
	var stop atomic.Bool
	var hashes atomic.Uint64
	w := scanner{tmpl: &tmpl, target: &zero, stop: &stop, hashes: &hashes}
	if n := testing.AllocsPerRun(10, func() { w.scan(0, 4096) }); n != 0 {
		t.Fatalf("%v allocations per scan of 4096 nonces", n)
	}
}

// TestBatchOfHeadersVerifies checks headers-first sync: a peer verifies a
// batch of headers whose grandparents (which the difficulty rule reads) are
// in the batch, not yet in its store.
func TestBatchOfHeadersVerifies(t *testing.T) {
	g := testGenesis(2000)
	e := New(1)
	a, b := openChain(t, g, e), openChain(t, g, e)
	var headers []*chain.Header
	for range 4 {
		tmpl, err := a.BuildBlock(common.Address{1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := e.Seal(context.Background(), a, tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.InsertBlock(sealed); err != nil {
			t.Fatal(err)
		}
		headers = append(headers, sealed.Header)
	}
	if _, err := b.VerifyHeaders(headers); err != nil {
		t.Fatalf("a peer refused a valid batch of headers: %v", err)
	}
	bad := append([]*chain.Header(nil), headers...)
	bad[3] = headers[3].Copy()
	bad[3].Bits++
	if _, err := b.VerifyHeaders(bad); !errors.Is(err, ErrBadBits) {
		t.Fatalf("wrong bits in a batch: %v", err)
	}
}

// BenchmarkNonceLoop2 is the two-lane path: b.N nonces, two per call.
func BenchmarkNonceLoop2(b *testing.B) {
	tmpl := newTemplate([32]byte{})
	var zero [8]uint32
	for i := 0; i < b.N; i += 2 {
		h1, h2 := tmpl.hash2(uint64(i))
		if lessOrEqual(&h1, &zero) || lessOrEqual(&h2, &zero) {
			b.Fatal("impossible")
		}
	}
}

// TestScanFindsTheFirstNonce sets the target to the smallest of 100 hashes
// and checks that scan returns its nonce, whichever lane (or the odd last
// nonce) it falls on, and counts the nonces it tried.
func TestScanFindsTheFirstNonce(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	lanes := map[uint64]bool{}
	for i := 0; i < 40; i++ {
		var sealHash [32]byte
		r.Read(sealHash[:])
		tmpl := newTemplate(sealHash)
		best, at := [8]uint32{^uint32(0)}, uint64(0)
		for n := uint64(0); n < 100; n++ {
			if h := tmpl.hashGo(1000 + n); !lessOrEqual(&best, &h) {
				best, at = h, n
			}
		}
		count := at + 1 + uint64(i%2) // the winner last (odd or even count) or not
		var stop atomic.Bool
		var hashes atomic.Uint64
		w := scanner{tmpl: &tmpl, target: &best, stop: &stop, hashes: &hashes}
		nonce, ok := w.scan(1000, count)
		if !ok || nonce != 1000+at || hashes.Load() != at+1 {
			t.Fatalf("header %d: scan gave %d (%v) after %d hashes, want %d after %d", i, nonce, ok, hashes.Load(), 1000+at, at+1)
		}
		lanes[at%2] = true
	}
	if len(lanes) != 2 {
		t.Fatal("the test never put the winner in both lanes")
	}
}
