package netsim

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pow"
	"github.com/chaind/chaind/stats"
	"github.com/chaind/chaind/testnet"
	"github.com/ethereum/go-ethereum/common"
)

func mustNetwork(t *testing.T, s string) Network {
	t.Helper()
	n, err := ParseNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// runTwice runs the configuration cfg makes twice and checks that the two
// reports are identical (a network model keeps per-run state, so cfg makes a
// fresh one each time).
// descends reports whether block a descends from block b (or is b) in the
// records' block tree.
func descends(r *testnet.Records, a, b common.Hash) bool {
	for h := a; ; {
		if h == b {
			return true
		}
		blk := r.Blocks[h]
		if blk == nil || blk.Height == 0 {
			return false
		}
		h = blk.Parent
	}
}

func runTwice(t *testing.T, cfg func() Config) *Result {
	t.Helper()
	a, err := Run(context.Background(), cfg())
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), cfg())
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a.Report)
	jb, _ := json.Marshal(b.Report)
	if string(ja) != string(jb) {
		t.Fatalf("same seed, different reports:\n%s\n%s", ja, jb)
	}
	t.Logf("%s", ja)
	return a
}

func TestSmallRunAgreesAndIsDeterministic(t *testing.T) {
	a := runTwice(t, func() Config {
		return Config{Nodes: 8, BlockTime: 10 * time.Second, Blocks: 60, Peers: 3, BlockSize: 100_000, Seed: 7,
			ValidationRate: 20e6, Processing: 2 * time.Millisecond, Network: mustNetwork(t, "bitcoin")}
	})
	if !a.Report.HeadsAgree {
		t.Fatal("nodes ended on different heads")
	}
	if a.Report.Canonical < 60 {
		t.Fatalf("%d canonical blocks, want at least 60", a.Report.Canonical)
	}
}

// TestStaleRateFollowsModel sweeps d/T on a complete graph of four equal
// miners with a constant delay and no bandwidth limit, where the standard
// model applies: a block goes stale when another miner finds one within d
// of it, so the stale rate is 1 - exp(-((n-1)/n) d/T). The measured rate's
// exact 95% interval (Clopper-Pearson) must contain the model at every point.
func TestStaleRateFollowsModel(t *testing.T) {
	for _, dT := range []float64{0.01, 0.03, 0.1} {
		const n, blockTime = 4, 10 * time.Second
		d := time.Duration(dT * float64(blockTime))
		res, err := Run(context.Background(), Config{Nodes: n, BlockTime: blockTime, Blocks: 4000,
			Network: mustNetwork(t, "const:"+d.String()), Peers: n - 1, Seed: 11})
		if err != nil {
			t.Fatal(err)
		}
		rep := res.Report
		lo, hi := stats.ClopperPearson(rep.Stale, rep.Produced, 0.05)
		model := 1 - math.Exp(-float64(n-1)/n*float64(d.Milliseconds())/rep.ProductionIntervalMs)
		t.Logf("d/T=%.2f: %d of %d stale, rate %.4f [%.4f, %.4f], model %.4f", dT, rep.Stale, rep.Produced, rep.StaleRate, lo, hi, model)
		if model < lo || model > hi {
			t.Errorf("d/T=%.2f: model %.4f outside the 95%% interval [%.4f, %.4f]", dT, model, lo, hi)
		}
		if !rep.HeadsAgree {
			t.Errorf("d/T=%.2f: nodes ended on different heads", dT)
		}
	}
}

func TestRandomRegularGraphs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, k int }{{10, 3}, {100, 8}, {1000, 8}, {5, 4}, {5, 10}} {
		adj, err := randomRegular(tc.n, tc.k, rng)
		if err != nil {
			t.Fatalf("n=%d k=%d: %v", tc.n, tc.k, err)
		}
		want := min(tc.k, tc.n-1)
		for i, l := range adj {
			if len(l) != want {
				t.Fatalf("n=%d k=%d: node %d has %d neighbours", tc.n, tc.k, i, len(l))
			}
			for j, p := range l {
				if p == i || (j > 0 && l[j-1] == p) || !slices.Contains(adj[p], i) {
					t.Fatalf("n=%d k=%d: bad edge %d-%d", tc.n, tc.k, i, p)
				}
			}
		}
	}
	if _, err := randomRegular(5, 3, rng); err == nil {
		t.Fatal("a 3-regular graph on 5 nodes does not exist, yet one was returned")
	}
}

func TestParseNetworkRefusesBadModels(t *testing.T) {
	for _, s := range []string{"", "const", "const:-1s", "lognormal:100ms", "lognormal:x,1", "bitcoin:2019", "mesh"} {
		if _, err := ParseNetwork(s); err == nil {
			t.Errorf("ParseNetwork(%q) accepted it", s)
		}
	}
	for _, s := range []string{"const:0s", "const:250ms", "lognormal:100ms,0.5", "bitcoin"} {
		if _, err := ParseNetwork(s); err != nil {
			t.Errorf("ParseNetwork(%q): %v", s, err)
		}
	}
}

// TestRealEngineRefusesSimulatedWork: a block sealed by the simulation is
// refused by the proof-of-work engine a real node runs.
func TestRealEngineRefusesSimulatedWork(t *testing.T) {
	s, err := newSim(Config{Nodes: 1, BlockTime: time.Second, Blocks: 1, Network: mustNetwork(t, "const:0s"), Peers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	c := s.nodes[0].chain
	s.clk.Advance(time.Second)
	b, err := c.BuildBlock(coinbase(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	b = sealed(b)
	if err := s.nodes[0].chain.InsertBlock(b); err != nil {
		t.Fatalf("the simulation's engine refused its own block: %v", err)
	}
	err = pow.New(1).VerifyHeader(c, b.Header, c.GenesisHeader())
	if !chain.IsRuleError(err) {
		t.Fatalf("the real engine accepted a simulated-work block: %v", err)
	}
}

// TestSelfishMiningMatchesTheory runs a selfish miner against honest ones
// and compares its share of the canonical chain with Eyal and Sirer's
// formula at the gamma the run measured. Blocks come every ten minutes over
// links of about 200 ms, so natural forks are too rare to matter, and the
// difficulty is held nearly constant (a half-life of 10,000 blocks), as the
// formula assumes: it counts blocks, while fork choice weighs work, and a
// withheld branch's blocks would otherwise carry a different difficulty.
func TestSelfishMiningMatchesTheory(t *testing.T) {
	for _, alpha := range []float64{0.25, 0.35, 0.45} {
		res, err := Run(context.Background(), Config{Nodes: 6, BlockTime: 600 * time.Second, Blocks: 3000,
			Network: mustNetwork(t, "lognormal:200ms,0.8"), Peers: 5, Selfish: alpha, Seed: 3,
			HalfLife: 10_000 * 600 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		sr := res.Selfish
		se := math.Sqrt(sr.Theory * (1 - sr.Theory) / float64(res.Report.Canonical))
		t.Logf("alpha %.2f: gamma %.3f (%d ties), revenue %.4f, theory %.4f, honest %.2f, s.e. %.4f",
			alpha, sr.Gamma, sr.GammaTrials, sr.RelativeRevenue, sr.Theory, alpha, se)
		// Runs of selfish blocks are correlated, so the binomial standard
		// error understates the spread: allow four of them.
		if math.Abs(sr.RelativeRevenue-sr.Theory) > 4*se {
			t.Errorf("alpha %.2f: revenue %.4f, theory %.4f (gamma %.3f): more than 4 s.e. (%.4f) apart",
				alpha, sr.RelativeRevenue, sr.Theory, sr.Gamma, se)
		}
	}
	if r := SelfishRevenue(1.0/3, 0); math.Abs(r-1.0/3) > 1e-9 {
		t.Errorf("with gamma 0 selfish mining breaks even at 1/3, formula gives %v", r)
	}
}

// TestPartitionForksAndHealReunites splits four miners 2|2 for a stretch of
// blocks: both halves keep mining on their own branch, and after the heal
// every node ends on one head, the losing half reorganised deeply.
func TestPartitionForksAndHealReunites(t *testing.T) {
	res, err := Run(context.Background(), Config{Nodes: 4, BlockTime: 10 * time.Second, Duration: 30 * time.Minute,
		Network: mustNetwork(t, "const:100ms"), Peers: 3, Seed: 5, Steps: []testnet.Step{
			{At: chain.Duration(5 * time.Minute), Do: "partition", Groups: [][]int{{0, 1}, {2, 3}}},
			{At: chain.Duration(15 * time.Minute), Do: "heal"},
			{At: chain.Duration(18 * time.Minute), Do: "kill", Node: 3},
			{At: chain.Duration(22 * time.Minute), Do: "restart", Node: 3},
		}})
	if err != nil {
		t.Fatal(err)
	}
	rep := res.Report
	t.Logf("%d produced, %d canonical, %d reorgs, deepest %d, actions %v", rep.Produced, rep.Canonical, rep.Reorgs, rep.MaxReorgDepth, rep.Actions)
	if !rep.HeadsAgree {
		t.Fatal("nodes disagree after the heal and the restart")
	}
	if rep.MaxReorgDepth < 10 {
		t.Fatalf("deepest reorg %d: a ten-minute partition at 10 s blocks should cost one half its branch", rep.MaxReorgDepth)
	}
	if len(rep.Actions) != 4 {
		t.Fatalf("actions %v, want 4", rep.Actions)
	}
}

func TestScenarioRefusesWhatIsNotSimulated(t *testing.T) {
	_, err := Run(context.Background(), Config{Nodes: 2, BlockTime: time.Second, Blocks: 3, Network: mustNetwork(t, "const:0s"),
		Peers: 1, Steps: []testnet.Step{{Do: "set-link"}}})
	if err == nil {
		t.Fatal("a set-link step was accepted")
	}
}

func TestMedianArrival(t *testing.T) {
	r := &testnet.Records{Blocks: map[common.Hash]*testnet.BlockRec{
		{0}: {Height: 0, SeenMs: map[int]int64{0: 0, 1: 999}}, // genesis: not counted
		{1}: {Height: 1, SeenMs: map[int]int64{0: 1000, 1: 1100, 2: 1300}},
		{2}: {Height: 2, SeenMs: map[int]int64{2: 5000, 0: 5400, 1: 5500}},
	}}
	// Delays 100, 300, 400, 500: the median (upper) is 400 ms.
	if got := MedianArrival(r); got != 400*time.Millisecond {
		t.Fatalf("median arrival %v, want 400ms", got)
	}
}

// TestCoinbasesSpreadOverStateBuckets checks that the nodes' reward addresses
// fall into many of the state tree's 4,096 buckets (the first 12 bits of an
// address): in one bucket, every import rehashes every coinbase credited so
// far. A thousand random addresses fill about 885 buckets.
func TestCoinbasesSpreadOverStateBuckets(t *testing.T) {
	buckets := map[uint16]bool{}
	for i := range 1000 {
		a := coinbase(i)
		buckets[uint16(a[0])<<4|uint16(a[1])>>4] = true
	}
	if len(buckets) < 850 {
		t.Fatalf("1,000 coinbases fill %d buckets, want at least 850", len(buckets))
	}
}
