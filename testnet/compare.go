package testnet

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// CompareOptions configure `chaind testnet compare`.
type CompareOptions struct {
	Out       string          // required: report directory
	Nodes     int             // default 4
	Duration  time.Duration   // per run; default 120s (quick: 30s)
	Latencies []time.Duration // one-way; default 50ms and 200ms (quick: 50ms)
	BlockTime time.Duration   // PoW target interval and PoS slot; default 500ms
	HashPower []float64       // PoW: each node's share of the hash power; default equal
	Hashrate  float64         // PoW: total nonces per second; default half of what the machine can do
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
var Variants = []struct {
	Name, Consensus string
	Finality        bool
}{{"pow", "pow", false}, {"pos", "pos", true}, {"pos-nofinality", "pos", false}}

// Phases of each run, as fractions of its duration.
const (
	phasePartition = 0.45
	phaseHeal      = 0.65
	phaseCrash1    = 0.75
	phaseCrash2    = 0.85
	phaseRecover   = 0.95
)

// RunResult is one run of the comparison.
type RunResult struct {
	Variant   string  `json:"variant"`
	LatencyMs float64 `json:"latencyMs"`
	Report    *Report `json:"report"`
	// Healthy phase (before the partition).
	HealthyProduced  int     `json:"healthyProduced"`
	HealthyStale     int     `json:"healthyStale"`
	HealthyStaleRate float64 `json:"healthyStaleRate"`
	ModelStaleRate   float64 `json:"modelStaleRate"` // 1 - exp(-((n-1)/n) d/T), measured d and T
	// RevertedAtDepth[k-1] is the share of blocks that reached depth k on a
	// node and were later reverted there, k = 1..10, over the whole run
	// (partition and crashes included) and over the healthy phase alone.
	RevertedAtDepth        []float64 `json:"revertedAtDepth"`
	ReachedDepth           []int     `json:"reachedDepth"` // how many (node, block) pairs reached depth k
	RevertedAtDepthHealthy []float64 `json:"revertedAtDepthHealthy"`
	ReachedDepthHealthy    []int     `json:"reachedDepthHealthy"`
	// ModelAgrees: |stale - model| <= 3 binomial standard errors + 0.03.
	ModelAgrees bool `json:"modelAgrees"`
	// Partition experiment.
	PartitionSideBlocks [2]int  `json:"partitionSideBlocks"` // blocks produced by each half while split
	HealReorgDepth      int     `json:"healReorgDepth"`      // deepest reorg within 15 s of the heal
	FinalityStallSec    float64 `json:"finalityStallSec"`    // partition start -> next finalization (PoS)
	// Crash experiment: blocks per second, stale share and finalizations in
	// each window: 1/4 down, 1/2 down, recovered.
	Crash []PhaseStats `json:"crash"`
}

// PhaseStats describes one window of a run.
type PhaseStats struct {
	Name          string  `json:"name"`
	BlocksPerSec  float64 `json:"blocksPerSec"`
	StaleShare    float64 `json:"staleShare"`
	Finalizations int     `json:"finalizations"`
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
	start := time.Now()
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
	d := opts.Duration
	at := func(f float64) time.Duration { return time.Duration(f * float64(d)) }
	steps := []Step{
		{At: 0, Do: "send", Count: int(d.Seconds() * 2), Rate: 2},
		{At: chain.Duration(at(phasePartition)), Do: "partition", Groups: half},
		{At: chain.Duration(at(phaseHeal)), Do: "heal"},
		{At: chain.Duration(at(phaseCrash1)), Do: "kill", Node: opts.Nodes - 1},
		{At: chain.Duration(at(phaseCrash2)), Do: "kill", Node: opts.Nodes - 2},
		{At: chain.Duration(at(phaseRecover)), Do: "restart", Node: opts.Nodes - 1},
		{At: chain.Duration(at(phaseRecover) + time.Second), Do: "restart", Node: opts.Nodes - 2},
		{At: chain.Duration(d), Do: "stop"},
	}
	sc := &Scenario{Nodes: opts.Nodes, Steps: steps}
	if err := sc.Run(s, nil); err != nil {
		return nil, err
	}
	if err := s.Down(); err != nil {
		return nil, err
	}
	if _, err := WriteReport(dir); err != nil {
		return nil, err
	}
	r, err := LoadRecords(dir)
	if err != nil {
		return nil, err
	}
	return analyse(name, lat, r, half), nil
}

// analyse derives the comparison's numbers from one run's records.
func analyse(name string, lat time.Duration, r *Records, halves [][]int) *RunResult {
	rep := Compute(r)
	res := &RunResult{Variant: name, LatencyMs: float64(lat.Microseconds()) / 1000, Report: rep}
	canon := canonicalChain(r)
	actionAt := func(prefix string) int64 {
		for _, a := range r.Actions {
			if strings.HasPrefix(a.What, prefix) {
				return a.TimeMs
			}
		}
		return r.EndMs
	}
	tPart, tHeal := actionAt("partition"), actionAt("heal")
	kills := []int64{}
	for _, a := range r.Actions {
		if strings.HasPrefix(a.What, "kill") {
			kills = append(kills, a.TimeMs)
		}
	}
	tRecover := actionAt("restart")
	produced := func(b *BlockRec) int64 { // when the block first appeared anywhere
		t := int64(math.MaxInt64)
		for _, s := range b.SeenMs {
			t = min(t, s)
		}
		return t
	}
	side := map[int]int{}
	for i, h := range halves {
		for _, n := range h {
			side[n] = i
		}
	}
	for _, b := range r.Blocks {
		if b.Height == 0 || len(b.SeenMs) == 0 {
			continue
		}
		t := produced(b)
		if t < tPart {
			res.HealthyProduced++
			if !canon[b.Hash] {
				res.HealthyStale++
			}
		}
		if t >= tPart && t < tHeal {
			if n, ok := r.Producers[b.Producer]; ok {
				res.PartitionSideBlocks[side[n]]++
			}
		}
	}
	if res.HealthyProduced > 0 {
		res.HealthyStaleRate = float64(res.HealthyStale) / float64(res.HealthyProduced)
		T := float64(tPart-r.StartMs) / float64(res.HealthyProduced)
		n := float64(r.Nodes)
		res.ModelStaleRate = 1 - math.Exp(-(n-1)/n*rep.DelayMs/T)
	}
	for _, e := range r.Events {
		if e.TimeMs >= tHeal && e.TimeMs < tHeal+15000 {
			res.HealReorgDepth = max(res.HealReorgDepth, len(e.Removed))
		}
	}
	res.RevertedAtDepth, res.ReachedDepth = revertedAtDepth(r, 10, r.EndMs)
	res.RevertedAtDepthHealthy, res.ReachedDepthHealthy = revertedAtDepth(r, 10, tPart)
	if res.HealthyProduced > 0 {
		sd := math.Sqrt(res.ModelStaleRate * (1 - res.ModelStaleRate) / float64(res.HealthyProduced))
		res.ModelAgrees = math.Abs(res.HealthyStaleRate-res.ModelStaleRate) <= 3*sd+0.03
	}
	if r.Consensus == "pos" {
		res.FinalityStallSec = finalityStall(r, tPart)
	}
	windows := []struct {
		name     string
		from, to int64
	}{{"1/4 down", kills[0], kills[1]}, {"1/2 down", kills[1], tRecover}, {"recovered", tRecover, r.EndMs}}
	if len(kills) < 2 {
		windows = windows[:0]
	}
	for _, w := range windows {
		ps := PhaseStats{Name: w.name}
		var made, stale int
		for _, b := range r.Blocks {
			if t := produced(b); b.Height > 0 && t >= w.from && t < w.to {
				made++
				if !canon[b.Hash] {
					stale++
				}
			}
		}
		if secs := float64(w.to-w.from) / 1000; secs > 0 {
			ps.BlocksPerSec = float64(made) / secs
		}
		if made > 0 {
			ps.StaleShare = float64(stale) / float64(made)
		}
		ps.Finalizations = newFinalizations(r, w.from, w.to)
		res.Crash = append(res.Crash, ps)
	}
	return res
}

// revertedAtDepth replays each node's head changes before until: a block reaches depth k
// on a node when k-1 blocks sit on it in that node's canonical chain, and is
// reverted there if a later reorg removes it. It returns, for k = 1..maxK,
// the share of (node, block) pairs that reached depth k and were later
// reverted, and how many reached it.
func revertedAtDepth(r *Records, maxK int, until int64) ([]float64, []int) {
	reached := make([]int, maxK)
	reverted := make([]int, maxK)
	byNode := map[int][]EventRec{}
	for _, e := range r.Events {
		if e.TimeMs < until {
			byNode[e.Node] = append(byNode[e.Node], e)
		}
	}
	for _, evs := range byNode {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].TimeMs < evs[j].TimeMs })
		height := map[common.Hash]uint64{} // canonical blocks still below depth maxK
		deepest := map[common.Hash]int{}   // depth each canonical block reached
		for _, e := range evs {
			for _, h := range e.Removed {
				for k := 0; k < deepest[h]; k++ {
					reverted[k]++
				}
				delete(deepest, h)
				delete(height, h)
			}
			n := uint64(len(e.Added))
			for i, h := range e.Added {
				height[h] = e.Height + 1 - n + uint64(i)
			}
			for h, ht := range height {
				if e.Height < ht {
					continue
				}
				d := min(int(e.Height-ht)+1, maxK)
				for k := deepest[h]; k < d; k++ {
					reached[k]++
				}
				deepest[h] = max(deepest[h], d)
				if d == maxK {
					delete(height, h) // deep enough: only its reversal is left to see
				}
			}
		}
	}
	out := make([]float64, maxK)
	for k := range out {
		if reached[k] > 0 {
			out[k] = float64(reverted[k]) / float64(reached[k])
		}
	}
	return out, reached
}

// finalityStall is how long after the partition any node finalized a block
// higher than the highest final before it (the run's end if never).
func finalityStall(r *Records, from int64) float64 {
	var before uint64
	for _, recs := range r.Finalized {
		for _, f := range recs {
			if f.TimeMs < from {
				before = max(before, f.Height)
			}
		}
	}
	next := r.EndMs
	for _, recs := range r.Finalized {
		for _, f := range recs {
			if f.TimeMs >= from && f.Height > before && f.TimeMs < next {
				next = f.TimeMs
			}
		}
	}
	return float64(next-from) / 1000
}

// newFinalizations counts distinct finalized heights first reported in [from, to).
func newFinalizations(r *Records, from, to int64) int {
	first := map[uint64]int64{}
	for _, recs := range r.Finalized {
		for _, f := range recs {
			if t, ok := first[f.Height]; !ok || f.TimeMs < t {
				first[f.Height] = f.TimeMs
			}
		}
	}
	n := 0
	for _, t := range first {
		if t >= from && t < to {
			n++
		}
	}
	return n
}
