package pow

import (
	"math"
	"math/big"
	"math/rand"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
)

// simChain is a chain of headers mined on a simulated clock by miners of
// given hash rates: each block's solve time is exponential with mean
// difficulty / total rate, and its producer is drawn by hash-rate share.
// Timestamps follow each producer's policy; the bits follow the rule.
type simChain struct {
	g       *chain.Genesis
	clk     *clock.Sim
	rng     *rand.Rand
	headers []*chain.Header
	by      []int // producer of each block (genesis: -1)
}

func newSimChain(blockTime time.Duration, rate float64, seed int64) *simChain {
	g := &chain.Genesis{ChainID: 7, Consensus: chain.ConsensusPoW, BlockTime: chain.Duration(blockTime),
		Engine: &GenesisConfig{Difficulty: chain.NewBigInt(big.NewInt(int64(rate * blockTime.Seconds())))}, Timestamp: 1_000_000}
	g.FillDefaults()
	gen, _ := g.Block(New(1))
	clk := clock.NewSim(time.UnixMilli(int64(g.Timestamp)))
	return &simChain{g: g, clk: clk, rng: rand.New(rand.NewSource(seed)), headers: []*chain.Header{gen.Header}, by: []int{-1}}
}

func (s *simChain) head() *chain.Header { return s.headers[len(s.headers)-1] }

// mine adds one block found by miners with the given rates (hashes/s);
// ahead[i] is how far ahead of the clock miner i dates its blocks.
func (s *simChain) mine(rates []float64, ahead []time.Duration) {
	parent := s.head()
	var grand *chain.Header
	if len(s.headers) > 1 {
		grand = s.headers[len(s.headers)-2]
	}
	bits := NextBits(s.g, grand, parent)
	d, _ := new(big.Float).SetInt(chain.DifficultyForTarget(chain.CompactToBig(bits))).Float64()
	total := 0.0
	for _, r := range rates {
		total += r
	}
	s.clk.Advance(time.Duration(s.rng.ExpFloat64() * d / total * float64(time.Second)))
	who, x := 0, s.rng.Float64()*total
	for who < len(rates)-1 && x >= rates[who] {
		x -= rates[who]
		who++
	}
	ts := uint64(s.clk.Now().Add(ahead[who]).UnixMilli())
	s.headers = append(s.headers, &chain.Header{Height: parent.Height + 1, Time: max(ts, parent.Time+1), Bits: bits})
	s.by = append(s.by, who)
}

// meanInterval is the mean spacing of blocks from..to in target intervals.
func (s *simChain) meanInterval(from, to int) float64 {
	span := float64(s.headers[to].Time - s.headers[from].Time)
	return span / float64(to-from) / float64(s.g.BlockTime.D().Milliseconds())
}

func TestRuleHasNoLongRunBias(t *testing.T) {
	for _, bt := range []time.Duration{time.Second, 100 * time.Millisecond} {
		const n, warm = 200_000, 1_000
		s := newSimChain(bt, 1e6, 1)
		for range n {
			s.mine([]float64{1e6}, []time.Duration{0})
		}
		// The mean of n solve times, with a 95% interval from their sample
		// standard deviation; the test allows 4 standard errors around 1
		// plus 0.3% for the rounding of compact bits.
		var sum, sq float64
		for i := warm + 1; i <= n; i++ {
			x := float64(s.headers[i].Time-s.headers[i-1].Time) / float64(bt.Milliseconds())
			sum, sq = sum+x, sq+x*x
		}
		m := float64(n - warm)
		mean := sum / m
		se := math.Sqrt((sq/m - mean*mean) / m)
		tol := 4*se + 0.003
		t.Logf("block time %v: mean interval %.4f T [%.4f, %.4f] over %d blocks (tolerance %.4f)", bt, mean, mean-1.96*se, mean+1.96*se, n-warm, tol)
		if math.Abs(mean-1) > tol {
			t.Errorf("block time %v: mean interval %.4f T, want 1 within %.4f", bt, mean, tol)
		}
	}
}

func TestRuleTracksAHashRateChange(t *testing.T) {
	s := newSimChain(time.Second, 1e6, 2)
	for range 2_000 {
		s.mine([]float64{1e6}, []time.Duration{0})
	}
	// The 40% miner leaves: blocks slow to 1/0.6 T at first; after a few
	// half-lives the rule has brought the interval back to T.
	kill := len(s.headers) - 1
	for range 3_000 {
		s.mine([]float64{0.6e6}, []time.Duration{0})
	}
	first := s.meanInterval(kill, kill+30)
	late := s.meanInterval(kill+1_000, kill+3_000)
	t.Logf("after losing 40%% of the hash rate: first 30 blocks %.2f T, blocks 1000-3000 %.3f T", first, late)
	if first < 1.3 {
		t.Errorf("the chain did not slow when hash power left: %.2f T", first)
	}
	if math.Abs(late-1) > 0.05 {
		t.Errorf("the rule did not adapt: %.3f T after 1000 blocks", late)
	}
}

// TestStallMintsNoStorm stops a dev chain (1 s blocks) for 60 s and checks
// that the 15 s after it restarts hold no more than 3 times the target
// number of blocks, over many seeds.
func TestStallMintsNoStorm(t *testing.T) {
	worst, total := 0, 0
	for seed := int64(0); seed < 200; seed++ {
		s := newSimChain(time.Second, 1e6, seed)
		for range 300 {
			s.mine([]float64{1e6}, []time.Duration{0})
		}
		s.clk.Advance(60 * time.Second)
		restart := uint64(s.clk.Now().UnixMilli())
		first := len(s.headers)
		for s.head().Time < restart+15_000 {
			s.mine([]float64{1e6}, []time.Duration{0})
		}
		n := len(s.headers) - 1 - first // the last one is past the window
		worst, total = max(worst, n), total+n
		if n > 45 {
			t.Fatalf("seed %d: %d blocks in the 15 s after a 60 s stall, want at most 45", seed, n)
		}
	}
	t.Logf("blocks in the 15 s after a 60 s stall over 200 seeds: mean %.2f, most %d (target 15)", float64(total)/200, worst)
}

// TestTimestampLeverIsAFewPercent dates a block max_future ahead and checks
// how much easier its child gets; then lets a 10% and a 30% miner date every
// block max_future ahead for 100,000 blocks each and measures what it gains.
func TestTimestampLeverIsAFewPercent(t *testing.T) {
	s := newSimChain(time.Second, 1e6, 3)
	for range 500 {
		s.mine([]float64{1e6}, []time.Duration{0})
	}
	grand, parent := s.headers[len(s.headers)-2], s.head()
	honest := NextTarget(s.g, grand, parent)
	moved := *parent
	moved.Time += uint64(s.g.MaxFuture.D().Milliseconds())
	lever, _ := new(big.Float).Quo(new(big.Float).SetInt(NextTarget(s.g, grand, &moved)), new(big.Float).SetInt(honest)).Float64()
	bound := math.Pow(2, float64(s.g.MaxFuture)/float64(Section(s.g).HalfLife))
	t.Logf("a block dated %v ahead makes the next %.4fx easier (bound %.4f)", s.g.MaxFuture.D(), lever, bound)
	if lever > bound*1.001 || lever > 1.05 {
		t.Errorf("lever %.4f, want at most %.4f and 1.05", lever, bound)
	}

	const n = 100_000
	for _, share := range []float64{0.1, 0.3} {
		rates, ahead := []float64{(1 - share) * 1e6, share * 1e6}, []time.Duration{0, s.g.MaxFuture.D()}
		start := len(s.headers) - 1
		for range n {
			s.mine(rates, ahead)
		}
		won := 0
		for _, by := range s.by[start+1:] {
			if by == 1 {
				won++
			}
		}
		got := float64(won) / n
		mean := s.meanInterval(start, start+n)
		t.Logf("a %.0f%% miner dating every block %v ahead: %.4f of the blocks, mean interval %.4f T", 100*share, ahead[1], got, mean)
		// Allow 3% of gain plus 4 standard errors of the share.
		if se := math.Sqrt(share * (1 - share) / n); got > share*1.03+4*se {
			t.Errorf("the lever gained the %.2f miner %.4f of the blocks", share, got)
		}
		if math.Abs(mean-1) > 0.03 {
			t.Errorf("the %.2f miner's lever moved the mean interval to %.4f T", share, mean)
		}
	}
}
