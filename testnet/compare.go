package testnet

import (
	"encoding/json"
	"fmt"
	"github.com/chaind/chaind/stats"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/chaind/chaind/chain"
)

// CompareOptions configure `chaind testnet compare`.
type CompareOptions struct {
	Out       string          // required: report directory
	Nodes     int             // default 4
	Duration  time.Duration   // per run; default 120s (quick: 30s)
	Latencies []time.Duration // one-way; default 50ms and 200ms (quick: 50ms)
	BlockTime time.Duration   // PoW target interval and PoS slot; default 500ms
	HashPower []float64       // PoW: each node's share of the hash power; default equal
	Hashrate  float64         // PoW: total nonces per second; default 30% of what the machine can do
	Seed      int64
	Quick     bool
	// Reanalyse recomputes the report from the records of runs already in
	// Out instead of running them again.
	Reanalyse bool
	Binary    string
	Logger    *slog.Logger
	Progress  io.Writer // optional: progress lines
}

// Variants compared: the same network and block interval for each.
var Variants = []Variant{{"pow", "pow", false}, {"pos", "pos", true}, {"pos-nofinality", "pos", false}}

// Variant is one consensus setting the comparison runs.
type Variant struct {
	Name, Consensus string
	Finality        bool
}

// Phases of each run, as fractions of its duration.
const (
	phasePartition = 0.45
	phaseHeal      = 0.65
	phaseCrash1    = 0.75
	phaseCrash2    = 0.85
	phaseRecover   = 0.95
)

// RunResult is one run of the comparison. Every rate carries its exact 95%
// interval (the Lo and Hi fields of stats.Proportion and stats.Rate), for
// the tables and the plots' error bars.
type RunResult struct {
	Variant   string  `json:"variant"`
	LatencyMs float64 `json:"latencyMs"`
	Report    *Report `json:"report"`
	// Healthy phase (before the partition).
	HealthyProduced  int              `json:"healthyProduced"`
	HealthyStale     int              `json:"healthyStale"`
	HealthyStaleRate float64          `json:"healthyStaleRate"`
	HealthyStaleCI   stats.Proportion `json:"healthyStaleInterval"`
	ModelStaleRate   float64          `json:"modelStaleRate"` // 1 - exp(-((n-1)/n) d/T), measured d and T
	// ModelPValue is the exact two-sided binomial test of HealthyStale out
	// of HealthyProduced against ModelStaleRate; ModelAgrees is
	// ModelPValue >= ModelLevel. ModelResolution is the relative deviation
	// from the model (|rate/model - 1|) that the test detects with 80% power
	// at that level and this many blocks: the test says little about
	// smaller ones.
	ModelPValue     float64 `json:"modelPValue"`
	ModelAgrees     bool    `json:"modelAgrees"`
	ModelResolution float64 `json:"modelResolution"`
	// RevertedAtDepth[k-1] is the share of blocks that reached depth k on a
	// node and were later reverted there, k = 1..10, over the whole run
	// (partition and crashes included) and over the healthy phase alone;
	// the CI slices hold the counts and exact 95% intervals. The unit is a
	// (node, block) pair: the pairs of one block are not independent (one
	// reorg often reverts a block on several nodes), so the intervals are
	// narrower than they would be for independent trials.
	RevertedAtDepth          []float64          `json:"revertedAtDepth"`
	ReachedDepth             []int              `json:"reachedDepth"` // how many (node, block) pairs reached depth k
	RevertedAtDepthCI        []stats.Proportion `json:"revertedAtDepthInterval"`
	RevertedAtDepthHealthy   []float64          `json:"revertedAtDepthHealthy"`
	ReachedDepthHealthy      []int              `json:"reachedDepthHealthy"`
	RevertedAtDepthHealthyCI []stats.Proportion `json:"revertedAtDepthHealthyInterval"`
	// HealthyFinality is the time from first sight to finality of the
	// canonical blocks first seen in the healthy phase (PoS).
	HealthyFinality Quantiles `json:"healthyFinalityMs"`
	// Partition experiment.
	PartitionSideBlocks [2]int  `json:"partitionSideBlocks"` // blocks produced by each half while split
	HealReorgDepth      int     `json:"healReorgDepth"`      // deepest reorg within 15 s of the heal
	FinalityStallSec    float64 `json:"finalityStallSec"`    // partition start -> next finalization (PoS)
	// Crash experiment: blocks per second, stale share and finalizations in
	// each window: 1/4 down, 1/2 down, recovered.
	Crash []PhaseStats `json:"crash"`
}

// ModelLevel is the level of the stale-rate model test.
const ModelLevel = 0.01

// PhaseStats describes one window of a run. Blocks are placed in windows by
// their header timestamps (for PoS the start of their slot), so a PoS window
// never counts more than one block per slot.
type PhaseStats struct {
	Name           string           `json:"name"`
	BlocksPerSec   float64          `json:"blocksPerSec"`
	BlocksPerSecCI stats.Rate       `json:"blocksPerSecInterval"` // exact Poisson 95% interval
	StaleShare     float64          `json:"staleShare"`
	StaleShareCI   stats.Proportion `json:"staleShareInterval"`
	// SlotsFilled (PoS) is the share of the window's slots that hold a
	// canonical block.
	SlotsFilled   *stats.Proportion `json:"slotsFilled,omitempty"`
	Finalizations int               `json:"finalizations"`
}

// Comparison is results.json.
type Comparison struct {
	Nodes       int         `json:"nodes"`
	DurationSec float64     `json:"durationSecPerRun"`
	BlockTimeMs int64       `json:"blockTimeMs"`
	Runs        []RunResult `json:"runs"`
}

// Compare runs every variant at every latency and writes results.json,
// report.md and plots into opts.Out.
func Compare(opts CompareOptions) (*Comparison, error) {
	if opts.Nodes == 0 {
		opts.Nodes = 4
	}
	if opts.Duration == 0 {
		opts.Duration = 120 * time.Second
		if opts.Quick {
			opts.Duration = 30 * time.Second
		}
	}
	if len(opts.Latencies) == 0 {
		opts.Latencies = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond}
		if opts.Quick {
			opts.Latencies = opts.Latencies[:1]
		}
	}
	if opts.BlockTime == 0 {
		opts.BlockTime = 500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, err
	}
	cmp := &Comparison{Nodes: opts.Nodes, DurationSec: opts.Duration.Seconds(), BlockTimeMs: opts.BlockTime.Milliseconds()}
	total := len(opts.Latencies) * len(Variants)
	start := time.Now() // wall-clock: progress lines for the person waiting
	for li, lat := range opts.Latencies {
		for vi, v := range Variants {
			n := li*len(Variants) + vi
			remaining := time.Duration(total-n) * (opts.Duration + 10*time.Second)
			fmt.Fprintf(opts.Progress, "[run %d/%d] %s, latency %v (elapsed %v, about %v left)\n", n+1, total, v.Name, lat,
				time.Since(start).Round(time.Second), remaining.Round(time.Second))
			run := runVariant
			if opts.Reanalyse {
				run = reanalyse
			}
			res, err := run(opts, v.Name, v.Consensus, v.Finality, lat)
			if err != nil {
				return nil, fmt.Errorf("%s at %v: %w", v.Name, lat, err)
			}
			cmp.Runs = append(cmp.Runs, *res)
		}
	}
	data, err := json.MarshalIndent(cmp, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(opts.Out, "results.json"), data, 0o644); err != nil {
		return nil, err
	}
	if err := writeComparison(opts.Out, cmp); err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Progress, "done in %v: %s\n", time.Since(start).Round(time.Second), filepath.Join(opts.Out, "report.md"))
	return cmp, nil
}

// CompareSteps is the timeline of one comparison run of duration d:
// transactions at 2 per second, the nodes split in two halves and healed,
// then the last quarter of the nodes crashed, then the quarter before it,
// and all of them restarted (with 4 nodes: node 3, then node 2, restarted a
// second apart). The
// simulator runs the same timeline at scale.
func CompareSteps(nodes int, d time.Duration) []Step {
	at := func(f float64) chain.Duration { return chain.Duration(time.Duration(f * float64(d))) }
	steps := []Step{
		{At: 0, Do: "send", Count: int(d.Seconds() * 2), Rate: 2},
		{At: at(phasePartition), Do: "partition", Groups: halves(nodes)},
		{At: at(phaseHeal), Do: "heal"},
	}
	quarter := max(nodes/4, 1)
	first, second := nodes-quarter, max(nodes-2*quarter, 0)
	for i := nodes - 1; i >= first; i-- {
		steps = append(steps, Step{At: at(phaseCrash1), Do: "kill", Node: i})
	}
	for i := first - 1; i >= second; i-- {
		steps = append(steps, Step{At: at(phaseCrash2), Do: "kill", Node: i})
	}
	// One node after another, the first crashed first: a second apart, or
	// closer when many nodes must restart within 2% of the run.
	gap := min(time.Second, d/50/time.Duration(nodes-second))
	for i := nodes - 1; i >= second; i-- {
		steps = append(steps, Step{At: at(phaseRecover) + chain.Duration(time.Duration(nodes-1-i)*gap), Do: "restart", Node: i})
	}
	return append(steps, Step{At: chain.Duration(d), Do: "stop"})
}

// Halves is the partition of CompareSteps: the first half of the nodes
// and the rest.
func Halves(nodes int) [][]int { return halves(nodes) }

func runDir(opts CompareOptions, name string, lat time.Duration) string {
	return filepath.Join(opts.Out, "runs", fmt.Sprintf("%s-%dms", name, lat.Milliseconds()))
}

// halves splits the nodes in two groups for the partition.
func halves(nodes int) [][]int {
	half := make([][]int, 2)
	for i := 0; i < nodes; i++ {
		half[i*2/nodes] = append(half[i*2/nodes], i)
	}
	return half
}

// reanalyse loads a finished run's records.
func reanalyse(opts CompareOptions, name, _ string, _ bool, lat time.Duration) (*RunResult, error) {
	dir := runDir(opts, name, lat)
	if _, err := WriteReport(dir); err != nil {
		return nil, err
	}
	r, err := LoadRecords(dir)
	if err != nil {
		return nil, err
	}
	return analyse(name, lat, r, halves(opts.Nodes)), nil
}

func runVariant(opts CompareOptions, name, consensus string, finality bool, lat time.Duration) (*RunResult, error) {
	dir := runDir(opts, name, lat)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	s, err := Up(Options{Dir: dir, Nodes: opts.Nodes, Consensus: consensus, BlockTime: opts.BlockTime, Seed: opts.Seed,
		Binary: opts.Binary, Logger: opts.Logger, EpochLength: 4, NoFinality: consensus == "pos" && !finality,
		Link: LinkParams{Latency: lat, Jitter: lat / 10}, HashPower: slices.Clone(opts.HashPower), Hashrate: opts.Hashrate})
	if err != nil {
		return nil, err
	}
	defer s.Down()
	half := halves(opts.Nodes)
	sc := &Scenario{Nodes: opts.Nodes, Steps: CompareSteps(opts.Nodes, opts.Duration)}
	if err := sc.Run(s, nil); err != nil {
		return nil, err
	}
	if err := s.Down(); err != nil {
		return nil, err
	}
	if _, err := WriteReport(dir); err != nil {
		return nil, err
	}
	if err := CompressRecords(dir); err != nil {
		return nil, err
	}
	r, err := LoadRecords(dir)
	if err != nil {
		return nil, err
	}
	return analyse(name, lat, r, half), nil
}
