package testnet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaind/chaind/stats"
)

// writeComparison writes report.md and the comparison's plots.
func writeComparison(dir string, cmp *Comparison) error {
	if err := reversalFigure(cmp, false).Save(filepath.Join(dir, "reversal.svg")); err != nil {
		return err
	}
	if err := reversalFigure(cmp, true).Save(filepath.Join(dir, "reversal-healthy.svg")); err != nil {
		return err
	}
	if err := staleFigure(cmp).Save(filepath.Join(dir, "stale.svg")); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# PoW and PoS compared\n\n%d nodes, one miner thread (held to its share of a declared hash rate: `--hashpower`, equal by default) or one validator each, target block interval (PoW) = slot (PoS) = %d ms, %0.f s per run. ",
		cmp.Nodes, cmp.BlockTimeMs, cmp.DurationSec)
	fmt.Fprintf(&b, "Each run: healthy until %.0f%%, split 50/50 until %.0f%%, healed; one quarter of the miners or stake killed at %.0f%%, one half at %.0f%%, all back at %.0f%%. Transfers sent at 2/s throughout.\n\n",
		100*phasePartition, 100*phaseHeal, 100*phaseCrash1, 100*phaseCrash2, 100*phaseRecover)
	b.WriteString("## Forks, reorgs and confirmations\n\n")
	b.WriteString("| run | latency | blocks | stale (healthy) [95% interval] | model | test p | resolution | reorgs | deepest | P(revert) healthy k=1 | k=2 | k=3 | whole run k=1 | k=6 | k=10 | 1 conf p50/p90 s | 6 conf p50/p90 s | finality p50 / p90 s | finalized reverted |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range cmp.Runs {
		rep := r.Report
		model, pv, res := "-", "-", "-"
		if r.Variant == "pow" {
			model, pv, res = fmt.Sprintf("%.3f", r.ModelStaleRate), fmt.Sprintf("%.2g", r.ModelPValue), fmt.Sprintf("±%.0f%%", 100*r.ModelResolution)
		}
		fin, finRev := "-", "-"
		if r.Variant == "pos" {
			fin = fmt.Sprintf("%s (healthy); %s (all)", secs(r.HealthyFinality), secs(rep.TimeToFinality))
			finRev = fmt.Sprint(rep.FinalizedReverted)
		}
		fmt.Fprintf(&b, "| %s | %.0f ms | %d | %.3f [%.3f, %.3f] (%d/%d) | %s | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Variant, r.LatencyMs, rep.Produced, r.HealthyStaleRate, r.HealthyStaleCI.Lo, r.HealthyStaleCI.Hi, r.HealthyStale, r.HealthyProduced,
			model, pv, res, rep.Reorgs, rep.MaxReorgDepth,
			prob(r.RevertedAtDepthHealthyCI, 1), prob(r.RevertedAtDepthHealthyCI, 2), prob(r.RevertedAtDepthHealthyCI, 3),
			prob(r.RevertedAtDepthCI, 1), prob(r.RevertedAtDepthCI, 6), prob(r.RevertedAtDepthCI, 10),
			secs(rep.Confirmations[1]), secs(rep.Confirmations[6]), fin, finRev)
	}
	fmt.Fprintf(&b, "\nEvery rate is given with its exact (Clopper-Pearson) 95%% interval. P(revert) at depth k: of the (node, block) pairs where the block reached depth k on the node (k-1 blocks on top of it), the share that a later reorg on that node removed, as reverted/reached [95%% interval]; healthy = before the partition, whole run = partition and crashes included; `-`: no block reached that depth. The pairs of one block are not independent, so these intervals are too narrow by a factor up to the square root of the number of nodes. This is a per-(node, block) rate: it is not the stale rate, which counts blocks. The model is 1-exp(-((n-1)/n) d/T) with d the measured median one-hop delay and T the time between blocks found in the healthy phase; test p is the exact two-sided binomial test of the healthy stale count against it (the model is rejected at the %.2g level when p < %.2g); resolution is the relative deviation from the model that the test detects with 80%% power with this many blocks.\n\n", ModelLevel, ModelLevel)
	b.WriteString("![Probability that a block at depth k is later reverted, healthy phase](reversal-healthy.svg)\n\n![The same over the whole run](reversal.svg)\n\n![PoW stale rate against the model](stale.svg)\n\n")
	b.WriteString("## Partition (50/50, then healed)\n\n| run | latency | blocks by half A | by half B | deepest reorg at the heal | finalized blocks reverted | finality stalled for |\n|---|---|---|---|---|---|---|\n")
	for _, r := range cmp.Runs {
		stall := "-"
		if r.Variant == "pos" {
			stall = fmt.Sprintf("%.1f s", r.FinalityStallSec)
		}
		fmt.Fprintf(&b, "| %s | %.0f ms | %d | %d | %d | %d | %s |\n", r.Variant, r.LatencyMs, r.PartitionSideBlocks[0], r.PartitionSideBlocks[1],
			r.HealReorgDepth, r.Report.FinalizedReverted, stall)
	}
	b.WriteString("\n## Crashes (one quarter, then one half of the miners or stake down)\n\nBlocks are counted by their header time (PoS: their slot), so a PoS window never holds more than one block per slot; blocks/s with its exact Poisson 95% interval.\n\n| run | latency | window | blocks/s [95%] | stale share [95%] | slots filled [95%] | new finalized checkpoints |\n|---|---|---|---|---|---|---|\n")
	for _, r := range cmp.Runs {
		for _, p := range r.Crash {
			slots := "-"
			if p.SlotsFilled != nil {
				slots = interval3(*p.SlotsFilled)
			}
			fmt.Fprintf(&b, "| %s | %.0f ms | %s | %.2f [%.2f, %.2f] | %s | %s | %d |\n", r.Variant, r.LatencyMs, p.Name,
				p.BlocksPerSec, p.BlocksPerSecCI.Lo, p.BlocksPerSecCI.Hi, interval3(p.StaleShareCI), slots, p.Finalizations)
		}
	}
	b.WriteString("\n## Every run\n\n")
	for _, r := range cmp.Runs {
		run := fmt.Sprintf("runs/%s-%.0fms", r.Variant, r.LatencyMs)
		fmt.Fprintf(&b, "- %s at %.0f ms: [report](%s/report.md), ![heads](%s/heads.svg)\n", r.Variant, r.LatencyMs, run, run)
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644)
}

// prob prints the k-th proportion as reverted/reached [95% interval].
func prob(ps []stats.Proportion, k int) string {
	if k > len(ps) || ps[k-1].N == 0 {
		return "-"
	}
	p := ps[k-1]
	return fmt.Sprintf("%d/%d [%.4f, %.4f]", p.K, p.N, p.Lo, p.Hi)
}

// interval3 prints a proportion and its 95% interval to three places.
func interval3(p stats.Proportion) string {
	if p.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", p.P, p.Lo, p.Hi)
}

func secs(q Quantiles) string {
	if q.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f / %.1f", q.P50/1000, q.P90/1000)
}
