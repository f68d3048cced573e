package testnet

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chaind/chaind/stats"
	"github.com/ethereum/go-ethereum/common"
)

// Report is what a run measured.
type Report struct {
	Nodes       int     `json:"nodes"`
	Consensus   string  `json:"consensus"`
	BlockTimeMs int64   `json:"blockTimeMs"`
	LatencyMs   float64 `json:"latencyMs"`
	DurationSec float64 `json:"durationSec"`
	Produced    int     `json:"blocksProduced"`
	Canonical   int     `json:"canonicalBlocks"` // above genesis
	Stale       int     `json:"staleBlocks"`
	StaleRate   float64 `json:"staleRate"`
	// StaleRateCI is the stale rate with its exact 95% interval (Lo, Hi).
	StaleRateCI    stats.Proportion `json:"staleRateInterval"`
	MeanIntervalMs float64          `json:"meanBlockIntervalMs"` // run time / canonical blocks
	// ProductionIntervalMs is run time / blocks produced: T, the mean time
	// between blocks found by all the hash power together.
	ProductionIntervalMs float64 `json:"productionIntervalMs"`
	// DelayMs is d measured: the median time from a block's arrival at its
	// producer to its arrival at each other node (the median, so that blocks
	// held back by a partition or a crash do not count).
	DelayMs float64 `json:"delayMs"`
	// ModelStaleRate is the standard model 1 - exp(-d/T) with d the
	// configured one-way latency.
	ModelStaleRate float64 `json:"modelStaleRate"`
	// ModelStaleRateMeasured refines it for n equal miners and the measured
	// delay: 1 - exp(-((n-1)/n) d/T), since a miner never races itself. Both
	// models describe a healthy network: partitions and crashes add stale
	// blocks they do not count.
	ModelStaleRateMeasured float64 `json:"modelStaleRateMeasured"`
	// ModelPValue is the exact binomial test of the stale count against
	// ModelStaleRateMeasured (two-sided), over the whole run.
	ModelPValue float64 `json:"modelPValue"`
	HeadsAgree  bool    `json:"headsAgree"`
	FinalHead   string  `json:"finalHead"`

	Reorgs        int               `json:"reorgs"`
	ReorgsPerNode map[int]int       `json:"reorgsPerNode"`
	MaxReorgDepth int               `json:"maxReorgDepth"`
	ReorgDepths   map[int]int       `json:"reorgDepths"` // depth -> count
	Propagation   Quantiles         `json:"propagationMs"`
	Confirmations map[int]Quantiles `json:"confirmationMs"` // k -> time from send to k confirmations
	TxsSent       int               `json:"txsSent"`
	TxsMined      int               `json:"txsMined"`
	Producers     map[int]int       `json:"canonicalBlocksByNode"`
	// Proof of stake with finality.
	Finalizations     int         `json:"finalizations"`           // finalized checkpoints seen, all nodes
	FinalizedHeight   uint64      `json:"finalizedHeight"`         // highest finalized block
	FinalizedReverted int         `json:"finalizedBlocksReverted"` // finalized blocks not on the final chain: must be 0
	TimeToFinality    Quantiles   `json:"timeToFinalityMs"`        // first seen -> first reported final, canonical blocks
	Actions           []ActionRec `json:"actions"`
}

// Quantiles summarises a sample.
type Quantiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func quantiles(xs []float64) Quantiles {
	if len(xs) == 0 {
		return Quantiles{}
	}
	sort.Float64s(xs)
	at := func(q float64) float64 { return xs[min(int(q*float64(len(xs))), len(xs)-1)] }
	return Quantiles{N: len(xs), P50: at(0.5), P90: at(0.9), P99: at(0.99), Max: xs[len(xs)-1]}
}

// maxConfirmations is the deepest k the report gives confirmation times for.
const maxConfirmations = 6

// Compute derives the report from the records.
func Compute(r *Records) *Report {
	rep := &Report{Nodes: r.Nodes, Consensus: r.Consensus, BlockTimeMs: r.BlockTimeMs,
		LatencyMs: float64(r.Link.Latency.Microseconds()) / 1000, ReorgsPerNode: map[int]int{}, ReorgDepths: map[int]int{},
		Confirmations: map[int]Quantiles{}, Producers: map[int]int{}, Actions: r.Actions}
	end := r.EndMs
	if end == 0 {
		for _, e := range r.Events {
			end = max(end, e.TimeMs)
		}
	}
	rep.DurationSec = float64(end-r.StartMs) / 1000

	canon := canonicalChain(r)
	for h, b := range r.Blocks {
		if b.Height == 0 {
			continue
		}
		rep.Produced++
		if canon[h] {
			rep.Canonical++
			if n, ok := r.Producers[b.Producer]; ok {
				rep.Producers[n]++
			}
		}
	}
	rep.Stale = rep.Produced - rep.Canonical
	rep.StaleRateCI = stats.Binomial(rep.Stale, rep.Produced)
	rep.StaleRate = rep.StaleRateCI.P
	if rep.Canonical > 0 {
		rep.MeanIntervalMs = rep.DurationSec * 1000 / float64(rep.Canonical)
		rep.ProductionIntervalMs = rep.DurationSec * 1000 / float64(rep.Produced)
		rep.ModelStaleRate = 1 - math.Exp(-rep.LatencyMs/rep.ProductionIntervalMs)
	}
	rep.DelayMs = medianDelay(r)
	if rep.ProductionIntervalMs > 0 && r.Nodes > 1 {
		n := float64(r.Nodes)
		rep.ModelStaleRateMeasured = 1 - math.Exp(-(n-1)/n*rep.DelayMs/rep.ProductionIntervalMs)
		rep.ModelPValue = stats.BinomialPValue(rep.Stale, rep.Produced, rep.ModelStaleRateMeasured)
	}
	rep.HeadsAgree = len(r.FinalHeads) > 0
	var first common.Hash
	for _, h := range r.FinalHeads {
		if first == (common.Hash{}) {
			first = h
		}
		rep.HeadsAgree = rep.HeadsAgree && h == first
	}
	rep.FinalHead = first.Hex()

	for _, e := range r.Events {
		if d := len(e.Removed); d > 0 {
			rep.Reorgs++
			rep.ReorgsPerNode[e.Node]++
			rep.ReorgDepths[d]++
			rep.MaxReorgDepth = max(rep.MaxReorgDepth, d)
		}
	}

	var prop []float64
	for _, b := range r.Blocks {
		if len(b.SeenMs) < r.Nodes || b.Height == 0 {
			continue
		}
		lo, hi := int64(math.MaxInt64), int64(0)
		for _, t := range b.SeenMs {
			lo, hi = min(lo, t), max(hi, t)
		}
		prop = append(prop, float64(hi-lo))
	}
	rep.Propagation = quantiles(prop)

	byHeight := canonicalByHeight(r, canon)
	conf := map[int][]float64{}
	rep.TxsSent = len(r.Txs)
	for _, tx := range r.Txs {
		if tx.Block == nil || !canon[*tx.Block] {
			continue
		}
		rep.TxsMined++
		for k := 1; k <= maxConfirmations; k++ {
			b := byHeight[tx.Height+uint64(k)-1]
			if b == nil {
				break
			}
			if t, ok := firstSeen(b); ok {
				conf[k] = append(conf[k], float64(max(t-tx.SentMs, 0)))
			}
		}
	}
	for k, xs := range conf {
		rep.Confirmations[k] = quantiles(xs)
	}
	computeFinality(r, rep, canon, byHeight)
	return rep
}

// canonicalByHeight indexes the canonical blocks by height.
func canonicalByHeight(r *Records, canon map[common.Hash]bool) map[uint64]*BlockRec {
	byHeight := map[uint64]*BlockRec{}
	for h, b := range r.Blocks {
		if canon[h] {
			byHeight[b.Height] = b
		}
	}
	return byHeight
}

// firstSeen is when any node first saw b.
func firstSeen(b *BlockRec) (int64, bool) {
	t, ok := int64(math.MaxInt64), false
	for _, s := range b.SeenMs {
		t, ok = min(t, s), true
	}
	return t, ok
}

// computeFinality counts finalized checkpoints, those not on the final chain
// (a safety violation), and how long canonical blocks waited to be final.
func computeFinality(r *Records, rep *Report, canon map[common.Hash]bool, byHeight map[uint64]*BlockRec) {
	for _, recs := range r.Finalized {
		for _, f := range recs {
			rep.Finalizations++
			rep.FinalizedHeight = max(rep.FinalizedHeight, f.Height)
			if _, known := r.Blocks[f.Hash]; known && !canon[f.Hash] {
				rep.FinalizedReverted++
			}
		}
	}
	rep.TimeToFinality = timeToFinality(r, byHeight, math.MaxInt64)
}

// timeToFinality is how long the canonical blocks first seen before until
// waited from first sight to the first report, by any node, of them or a
// descendant being final.
func timeToFinality(r *Records, byHeight map[uint64]*BlockRec, until int64) Quantiles {
	finalAt := map[uint64]int64{} // height -> first time any node had it (or a descendant) final
	for _, recs := range r.Finalized {
		for _, f := range recs {
			if t, ok := finalAt[f.Height]; !ok || f.TimeMs < t {
				finalAt[f.Height] = f.TimeMs
			}
		}
	}
	var waits []float64
	for h, b := range byHeight {
		seen, ok := firstSeen(b)
		if !ok || h == 0 || seen >= until {
			continue
		}
		best := int64(math.MaxInt64)
		for fh, t := range finalAt {
			if fh >= h && t < best {
				best = t
			}
		}
		if best != math.MaxInt64 {
			waits = append(waits, float64(max(best-seen, 0)))
		}
	}
	return quantiles(waits)
}

// medianDelay is the median, over blocks and receiving nodes, of the time
// from the block's arrival at its producer to its arrival at the receiver.
func medianDelay(r *Records) float64 {
	var delays []float64
	for _, b := range r.Blocks {
		prod, ok := r.Producers[b.Producer]
		if !ok {
			continue
		}
		t0, ok := b.SeenMs[prod]
		if !ok {
			continue
		}
		for node, t := range b.SeenMs {
			if node != prod && t >= t0 {
				delays = append(delays, float64(t-t0))
			}
		}
	}
	return quantiles(delays).P50
}

// canonicalChain walks back from the final head most nodes agree on (or the
// heaviest-looking: the highest) to genesis.
func canonicalChain(r *Records) map[common.Hash]bool {
	votes := map[common.Hash]int{}
	for _, h := range r.FinalHeads {
		votes[h]++
	}
	var head common.Hash
	best, bestHeight := -1, uint64(0)
	for h, v := range votes {
		b := r.Blocks[h]
		if b != nil && (v > best || (v == best && b.Height > bestHeight)) {
			head, best, bestHeight = h, v, b.Height
		}
	}
	if best < 0 { // no final heads recorded: take the highest block
		var top uint64
		for h, b := range r.Blocks {
			if b.Height >= top {
				head, top = h, b.Height
			}
		}
	}
	canon := map[common.Hash]bool{}
	for b := r.Blocks[head]; b != nil; b = r.Blocks[b.Parent] {
		canon[b.Hash] = true
	}
	return canon
}

// DepthCounts lists the reorgs by depth, for a test of two runs'
// distributions (stats.Homogeneity): element i counts depth i+1.
func (rep *Report) DepthCounts() []int {
	out := make([]int, rep.MaxReorgDepth)
	for d, c := range rep.ReorgDepths {
		out[d-1] += c
	}
	return out
}

// WriteTable prints the report for a terminal.
func (rep *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%d %s nodes, %.0f s, target block time %d ms, one-way latency %.0f ms\n",
		rep.Nodes, rep.Consensus, rep.DurationSec, rep.BlockTimeMs, rep.LatencyMs)
	row := func(k, v string) { fmt.Fprintf(w, "  %-34s %s\n", k, v) }
	row("blocks produced", fmt.Sprint(rep.Produced))
	row("canonical blocks", fmt.Sprintf("%d (mean interval %.0f ms)", rep.Canonical, rep.MeanIntervalMs))
	row("stale blocks", fmt.Sprintf("%d, rate %s", rep.Stale, interval(rep.StaleRateCI)))
	if rep.Consensus == "pow" {
		row("model 1-exp(-d/T), d = latency", fmt.Sprintf("%.4f (T = %.0f ms between blocks found)", rep.ModelStaleRate, rep.ProductionIntervalMs))
		row("model with measured d, n miners", fmt.Sprintf("%.4f (d = %.1f ms, median one hop); exact test p = %.3g", rep.ModelStaleRateMeasured, rep.DelayMs, rep.ModelPValue))
	}
	row("reorgs (all nodes)", fmt.Sprintf("%d, deepest %d", rep.Reorgs, rep.MaxReorgDepth))
	depths := make([]int, 0, len(rep.ReorgDepths))
	for d := range rep.ReorgDepths {
		depths = append(depths, d)
	}
	sort.Ints(depths)
	var parts []string
	for _, d := range depths {
		parts = append(parts, fmt.Sprintf("%d:%d", d, rep.ReorgDepths[d]))
	}
	row("reorg depth histogram (depth:count)", strings.Join(parts, " "))
	row("propagation to all nodes (ms)", rep.Propagation.String())
	row("transactions sent / mined", fmt.Sprintf("%d / %d", rep.TxsSent, rep.TxsMined))
	for k := 1; k <= maxConfirmations; k++ {
		if q, ok := rep.Confirmations[k]; ok {
			row(fmt.Sprintf("time to %d confirmation(s) (ms)", k), q.String())
		}
	}
	if rep.Consensus == "pos" {
		row("finalized checkpoints (all nodes)", fmt.Sprintf("%d, highest block %d", rep.Finalizations, rep.FinalizedHeight))
		row("finalized blocks later reverted", fmt.Sprint(rep.FinalizedReverted))
		row("time to finality (ms)", rep.TimeToFinality.String())
	}
	row("all nodes on the same head", fmt.Sprint(rep.HeadsAgree))
}

// interval prints a proportion with its 95% interval.
func interval(p stats.Proportion) string {
	if p.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f [%.4f, %.4f]", p.P, p.Lo, p.Hi)
}

func (q Quantiles) String() string {
	if q.N == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %.0f  p90 %.0f  p99 %.0f  max %.0f  (n=%d)", q.P50, q.P90, q.P99, q.Max, q.N)
}

// WriteReport computes the report of the run in dir and writes report.json,
// report.md and the SVG plots there. It returns the report.
func WriteReport(dir string) (*Report, error) {
	r, err := LoadRecords(dir)
	if err != nil {
		return nil, err
	}
	rep := Compute(r)
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), data, 0o644); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	plots, err := writePlots(dir, r, rep)
	if err != nil {
		return nil, err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# chaind testnet report\n\n```\n")
	rep.WriteTable(&md)
	fmt.Fprintf(&md, "```\n\nEvents:\n\n")
	for _, a := range rep.Actions {
		fmt.Fprintf(&md, "- %+.1f s: %s\n", float64(a.TimeMs-r.StartMs)/1000, a.What)
	}
	md.WriteString("\n")
	for _, p := range plots {
		fmt.Fprintf(&md, "![%s](%s)\n\n", p.title, p.file)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return rep, nil
}
