package testnet

import (
	"context"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestHashPowerShares runs four PoW nodes with --hashpower 40,30,20,10 and
// tests the producers of the first 120 canonical blocks against the shares
// with a chi-square test at the 10^-4 level (critical value 21.11, 3
// degrees of freedom; against equal shares the expected statistic is 24,
// against the shares themselves 3). Then it kills the 40% miner and checks
// that the live miners' measured hash rate falls to 60% of the total.
func TestHashPowerShares(t *testing.T) {
	if testing.Short() {
		t.Skip("a real-process testnet")
	}
	const blocks = 120
	shares := []float64{0.4, 0.3, 0.2, 0.1}
	s := up(t, Options{Nodes: 4, BlockTime: 250 * time.Millisecond, Seed: 3, HashPower: []float64{40, 30, 20, 10},
		Link: LinkParams{Latency: 2 * time.Millisecond}})
	poll.Until(t, 5*time.Minute, "120 blocks on every node", func() bool { return minHeight(s) >= blocks })

	producer := map[common.Address]int{}
	for i, cb := range s.coinbases {
		producer[cb] = i
	}
	_, c := s.liveClient(0)
	counts := make([]float64, len(shares))
	for h := 1; h <= blocks; h++ {
		var b struct {
			Miner common.Address `json:"miner"`
		}
		if err := c.Call(context.Background(), &b, "eth_getBlockByNumber", hexutil.Uint64(h), false); err != nil {
			t.Fatal(err)
		}
		counts[producer[b.Miner]]++
	}
	chi2 := 0.0
	for i, sh := range shares {
		e := sh * blocks
		chi2 += (counts[i] - e) * (counts[i] - e) / e
	}
	t.Logf("producers of blocks 1-%d: %v for shares %v; chi-square %.2f", blocks, counts, shares, chi2)
	if chi2 > 21.11 {
		t.Errorf("chi-square %.2f > 21.11: the producers do not follow the shares", chi2)
	}

	total := func() (sum float64) {
		for _, n := range s.Status(context.Background()) {
			if n.Alive {
				sum += n.Hashrate
			}
		}
		return sum
	}
	for i, n := range s.Status(context.Background()) {
		t.Logf("node %d: measured %.0f nonces/s, declared %s", i, n.Hashrate, s.minerHashrate(i))
	}
	before := total()
	if err := s.Kill(0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // the miners report a rate measured over the last second
	after := total()
	t.Logf("measured hash rate: %.0f with every miner, %.0f without the 40%% one (%.2f)", before, after, after/before)
	if r := after / before; r < 0.5 || r > 0.7 {
		t.Errorf("killing the 40%% miner left %.2f of the hash rate, want 0.6", r)
	}
}
