package pow

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// stepUntil advances clk one timer at a time, each time after n timers are
// pending (the workers are parked), until it reaches end.
func stepUntil(t *testing.T, clk *clock.Sim, n int, end time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for clk.Now().Before(end) {
		if err := clk.BlockUntil(ctx, n); err != nil {
			t.Fatalf("workers never parked: %v", err)
		}
		if next, ok := clk.Next(); !ok || next.After(end) {
			clk.AdvanceTo(end)
			return
		}
		clk.Step()
	}
}

func TestThrottleHoldsTheDeclaredRate(t *testing.T) {
	const rate, threads = 100_000.0, 2
	clk := clock.NewSim(time.Unix(1_000, 0))
	e := NewEngine(EngineConfig{Threads: threads, Hashrate: rate, Clock: clk})
	g := testGenesis(1 << 62) // unreachable
	c := openChain(t, g, e)
	tmpl, err := c.BuildBlock(common.Address{1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := e.Seal(ctx, c, tmpl)
		done <- err
	}()
	start := clk.Now()
	for _, secs := range []int{1, 3} {
		stepUntil(t, clk, threads, start.Add(time.Duration(secs)*time.Second))
		if err := clk.BlockUntil(ctx, threads); err != nil {
			t.Fatal(err)
		}
		// Granted tokens are the burst (a full bucket at the start) plus
		// rate*t; the two parked workers hold a chunk each that they have
		// not hashed yet.
		got, want := float64(e.Hashes()), rate*float64(secs)+float64(e.throttle.lim.Burst())
		chunk := float64(e.throttle.chunk)
		if got < want-threads*chunk || got > want {
			t.Errorf("after %d s: %.0f hashes, want %.0f within [-%.0f, 0]", secs, got, want, threads*chunk)
		}
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("Seal found a nonce at an unreachable target")
	}
}

// TestSharesHoldOnAnyCPU mines one chain with four throttled miners of
// 40/30/20/10% of the hash power on a simulated clock, so that how the CPU
// schedules them does not matter, and tests the producer counts of 200
// canonical blocks against the shares with a chi-square test at the 10^-4
// level (critical value 21.11 for 3 degrees of freedom). Against equal
// shares the expected statistic is about 40, so the test has power.
func TestSharesHoldOnAnyCPU(t *testing.T) {
	const total, blocks = 40_000.0, 200
	shares := []float64{0.4, 0.3, 0.2, 0.1}
	clk := clock.NewSim(time.Unix(1_000_000, 0))
	g := testGenesis(int64(total)) // 1 s blocks at the total rate
	g.Timestamp = uint64(clk.Now().UnixMilli())
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: New(1), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range shares {
		m := NewMiner(MinerConfig{Chain: c, Engine: NewEngine(EngineConfig{Threads: 1, Hashrate: s * total, Clock: clk}),
			Txs: noTxs{}, Coinbase: common.Address{byte(i + 1)}, Logger: slog.New(slog.DiscardHandler)})
		m.Start()
		t.Cleanup(m.Close)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for c.Head().Height() < blocks {
		if err := clk.BlockUntil(ctx, len(shares)); err != nil {
			t.Fatalf("at height %d: %v", c.Head().Height(), err)
		}
		clk.Step()
	}
	counts := make([]float64, len(shares))
	for h := uint64(1); h <= blocks; h++ {
		b, err := c.BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		counts[b.Header.Coinbase[0]-1]++
	}
	chi2 := 0.0
	for i, s := range shares {
		e := s * blocks
		chi2 += (counts[i] - e) * (counts[i] - e) / e
	}
	t.Logf("producers of %d blocks: %v for shares %v; chi-square %.2f", blocks, counts, shares, chi2)
	if chi2 > 21.11 {
		t.Errorf("chi-square %.2f > 21.11: the shares do not hold", chi2)
	}
}

type noTxs struct{}

func (noTxs) Pending() []*types.Transaction { return nil }
