package loadgen

import (
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestAdmissionOnlyRun loads a real RPC server (real chain on in-memory
// LevelDB, real mempool, loopback HTTP) in admission-only mode: every
// transfer of both phases is in the pool, the phases count requests and
// transfers exactly, and a second run of the same transfers reports each
// one refused with the node's reason.
func TestAdmissionOnlyRun(t *testing.T) {
	keys, err := NewKeys(4)
	if err != nil {
		t.Fatal(err)
	}
	g := ct.Genesis(0)
	for _, k := range keys {
		g.Alloc[crypto.PubkeyToAddress(k.PublicKey)] = chain.GenesisAccount{Balance: chain.NewBigInt(ct.Ether(1))}
	}
	c := ct.NewChain(t, g, ct.NewClock(ct.GenesisTime))
	pool := mempool.New(mempool.Config{Chain: c})
	srv, err := rpc.New(rpc.Config{Chain: c, Pool: pool, Version: "test",
		Server: rpc.ServerConfig{Logger: slog.New(slog.DiscardHandler), Clock: clock.NewSim(time.Unix(1_700_000_000, 0))}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	cfg := Config{URL: hs.URL, ChainID: big.NewInt(int64(g.ChainID)), Keys: keys, Txs: 40, Batch: 3, Workers: 3, AdmissionOnly: true}
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 2 || pool.Len() != 80 || res.RecoveryUs <= 0 {
		t.Fatalf("%d phases, %d pooled, recovery %v µs; want 2 phases, 80 transfers pooled and a recovery cost", len(res.Phases), pool.Len(), res.RecoveryUs)
	}
	// 10 transfers per sender: 10 requests each unbatched, 4 (3+3+3+1) batched.
	for i, want := range []int{40, 16} {
		ph := res.Phases[i]
		if ph.Txs != 40 || ph.Calls != want || ph.Refused != 0 || ph.MinedTPS != 0 || ph.AcceptedTPS <= 0 || ph.P50Ms > ph.P99Ms {
			t.Fatalf("phase %d: %+v; want 40 transfers in %d requests, none refused, none waited for", i, ph, want)
		}
	}
	res, err = Run(cfg) // the same nonces again: signed anew, the same transfers
	if err == nil || len(res.Phases) != 1 || res.Phases[0].Refused != 40 || !strings.Contains(res.Phases[0].FirstError, "already known") {
		t.Fatalf("second run: %v, %+v; want all 40 refused as already known", err, res.Phases)
	}
}

func TestPercentiles(t *testing.T) {
	xs := make([]float64, 200)
	for i := range xs {
		xs[i] = float64(200 - i) // 1..200, reversed
	}
	if p50, p99 := percentiles(xs); p50 != 100 || p99 != 198 {
		t.Fatalf("p50 %v p99 %v, want 100 and 198 (nearest rank)", p50, p99)
	}
	if p50, p99 := percentiles([]float64{7}); p50 != 7 || p99 != 7 {
		t.Fatalf("one value: p50 %v p99 %v", p50, p99)
	}
}

// TestProcessCPU reads this process's CPU time from /proc after burning
// some: it agrees with getrusage to within a few clock ticks.
func TestProcessCPU(t *testing.T) {
	rusage := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for x := 0; rusage() < 100*time.Millisecond; x++ {
		_ = crypto.Keccak256([]byte{byte(x)})
	}
	got, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if want := rusage(); got <= 0 || got > want+30*time.Millisecond || got < want-30*time.Millisecond {
		t.Fatalf("/proc says %v of CPU, getrusage %v", got, want)
	}
	if _, err := ProcessCPU(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}

func TestNonceTaken(t *testing.T) {
	taken := &rpc.Error{Code: -32000, Message: "replacement transaction underpriced: replacing nonce 3 needs max fee >= 2"}
	if !nonceTaken(fmt.Errorf("send transaction: %w", taken)) {
		t.Fatal("a replacement refusal is a taken nonce")
	}
	for _, err := range []error{nil, errors.New("replacement transaction underpriced"), &rpc.Error{Code: -32000, Message: "insufficient funds"}} {
		if nonceTaken(err) {
			t.Fatalf("%v taken for a used nonce", err)
		}
	}
}
