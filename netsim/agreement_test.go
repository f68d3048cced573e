package netsim

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/stats"
	"github.com/chaind/chaind/testnet"
)

var (
	soak         = flag.Bool("soak", false, "run the simulation against the real-process testnet (minutes)")
	agreementOut = flag.String("agreement.out", "", "with -soak: keep the real run's records and the result in this directory")
)

// agreementLevel is the level at which the agreement test rejects: 1%.
const agreementLevel = 0.01

// Agreement is what TestSimulationAgreesWithTestnet compares.
type Agreement struct {
	Settings string          `json:"settings"`
	Real     *testnet.Report `json:"real"`
	Sim      *testnet.Report `json:"sim"`
	// StalePValue is Fisher's exact test that the two stale rates are one.
	StalePValue float64 `json:"stale_p_value"`
	// Depths* compare the reorg depth distributions (chi-square test of
	// homogeneity, tail merged until every expected count is at least 5).
	DepthsReal   []int   `json:"reorg_depths_real"`
	DepthsSim    []int   `json:"reorg_depths_sim"`
	DepthsChi2   float64 `json:"reorg_depths_chi2"`
	DepthsDF     int     `json:"reorg_depths_df"`
	DepthsPValue float64 `json:"reorg_depths_p_value"`
}

// TestSimulationAgreesWithTestnet runs the same network twice: four real
// chaind processes on the testnet's shaped links (200 ms one way, 1 s
// blocks, equal declared hash power) for six minutes, and the simulation at
// the same settings for 3,000 blocks. The stale rates must agree by
// Fisher's exact test and the reorg depth distributions by the chi-square
// test of homogeneity, each at the 1% level; both runs must have at least
// 300 blocks. It takes about seven minutes of real processes:
//
//	go test -count=1 -run SimulationAgreesWithTestnet -timeout 30m ./netsim/ -args -soak -agreement.out=../docs/simulation/agreement
func TestSimulationAgreesWithTestnet(t *testing.T) {
	if !*soak {
		t.Skip("runs real processes for minutes; run with -soak")
	}
	const nodes, latency, blockTime, realFor = 4, 200 * time.Millisecond, time.Second, 6 * time.Minute
	dir := t.TempDir()
	bin := filepath.Join(dir, "chaind")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/chaind").CombinedOutput(); err != nil {
		t.Fatalf("build chaind: %v\n%s", err, out)
	}
	netDir := filepath.Join(dir, "testnet")
	sup, err := testnet.Up(testnet.Options{Dir: netDir, Nodes: nodes, BlockTime: blockTime, Seed: 1, Binary: bin,
		Link: testnet.LinkParams{Latency: latency}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sup.Down() })
	time.Sleep(realFor)
	if err := sup.Down(); err != nil {
		t.Fatal(err)
	}
	recs, err := testnet.LoadRecords(netDir)
	if err != nil {
		t.Fatal(err)
	}
	real := testnet.Compute(recs)

	res, err := Run(context.Background(), Config{Nodes: nodes, Peers: nodes - 1, BlockTime: blockTime, Blocks: 3000,
		Network: mustNetwork(t, "const:"+latency.String()), Processing: 2 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sim := res.Report

	a := Agreement{Settings: "4 nodes, all linked, 200 ms one way, 1 s blocks, equal hash power; real: 6 minutes; simulation: 3,000 blocks, seed 1",
		Real: real, Sim: sim, DepthsReal: real.DepthCounts(), DepthsSim: sim.DepthCounts()}
	a.StalePValue = stats.FisherExact(real.Stale, real.Produced, sim.Stale, sim.Produced)
	a.DepthsChi2, a.DepthsPValue, a.DepthsDF = stats.Homogeneity(a.DepthsReal, a.DepthsSim)
	t.Logf("real: %d of %d stale (%.4f [%.4f, %.4f]), reorg depths %v, d %.0f ms, T %.0f ms",
		real.Stale, real.Produced, real.StaleRate, real.StaleRateCI.Lo, real.StaleRateCI.Hi, a.DepthsReal, real.DelayMs, real.ProductionIntervalMs)
	t.Logf("sim:  %d of %d stale (%.4f [%.4f, %.4f]), reorg depths %v, d %.0f ms, T %.0f ms",
		sim.Stale, sim.Produced, sim.StaleRate, sim.StaleRateCI.Lo, sim.StaleRateCI.Hi, a.DepthsSim, sim.DelayMs, sim.ProductionIntervalMs)
	t.Logf("stale rates: Fisher p = %.3g; reorg depths: chi-square %.2f, df %d, p = %.3g", a.StalePValue, a.DepthsChi2, a.DepthsDF, a.DepthsPValue)
	if *agreementOut != "" {
		keep(t, netDir, *agreementOut, &a)
	}
	if real.Produced < 300 || sim.Produced < 300 {
		t.Fatalf("%d real and %d simulated blocks: want at least 300 each", real.Produced, sim.Produced)
	}
	if a.StalePValue < agreementLevel {
		t.Errorf("stale rates %.4f (real) and %.4f (simulated) differ: p = %.3g", real.StaleRate, sim.StaleRate, a.StalePValue)
	}
	if a.DepthsPValue < agreementLevel {
		t.Errorf("reorg depths %v (real) and %v (simulated) differ: p = %.3g", a.DepthsReal, a.DepthsSim, a.DepthsPValue)
	}
}

// keep copies the real run's records (compressed) and writes the result.
func keep(t *testing.T, netDir, out string, a *Agreement) {
	t.Helper()
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testnet.CompressRecords(netDir); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(filepath.Join(netDir, "records.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(out, "records.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "result.json"), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
