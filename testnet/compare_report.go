package testnet

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	fmt.Fprintf(&b, "# PoW and PoS compared\n\n%d nodes, one miner thread or one validator each, target block interval (PoW) = slot (PoS) = %d ms, %0.f s per run. ",
		cmp.Nodes, cmp.BlockTimeMs, cmp.DurationSec)
	fmt.Fprintf(&b, "Each run: healthy until %.0f%%, split 50/50 until %.0f%%, healed; one quarter of the miners or stake killed at %.0f%%, one half at %.0f%%, all back at %.0f%%. Transfers sent at 2/s throughout.\n\n",
		100*phasePartition, 100*phaseHeal, 100*phaseCrash1, 100*phaseCrash2, 100*phaseRecover)
	b.WriteString("## Forks, reorgs and confirmations\n\n")
	b.WriteString("| run | latency | blocks | stale (healthy) | model | agrees | reorgs | deepest | P(revert) healthy k=1 | k=2 | k=3 | whole run k=1 | k=6 | k=10 | 1 conf p50/p90 s | 6 conf p50/p90 s | finality p50/p90 s | finalized reverted |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range cmp.Runs {
		rep := r.Report
		model, agrees := "-", "-"
		if r.Variant == "pow" {
			model, agrees = fmt.Sprintf("%.3f", r.ModelStaleRate), fmt.Sprint(r.ModelAgrees)
		}
		fin, finRev := "-", "-"
		if r.Variant == "pos" {
			fin = fmt.Sprintf("%.1f / %.1f", rep.TimeToFinality.P50/1000, rep.TimeToFinality.P90/1000)
			finRev = fmt.Sprint(rep.FinalizedReverted)
		}
		fmt.Fprintf(&b, "| %s | %.0f ms | %d | %.3f (%d/%d) | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Variant, r.LatencyMs, rep.Produced, r.HealthyStaleRate, r.HealthyStale, r.HealthyProduced, model, agrees, rep.Reorgs, rep.MaxReorgDepth,
			prob(r.RevertedAtDepthHealthy, r.ReachedDepthHealthy, 1), prob(r.RevertedAtDepthHealthy, r.ReachedDepthHealthy, 2),
			prob(r.RevertedAtDepthHealthy, r.ReachedDepthHealthy, 3), prob(r.RevertedAtDepth, r.ReachedDepth, 1),
			prob(r.RevertedAtDepth, r.ReachedDepth, 6), prob(r.RevertedAtDepth, r.ReachedDepth, 10),
			secs(rep.Confirmations[1]), secs(rep.Confirmations[6]), fin, finRev)
	}
	b.WriteString("\nP(revert) at depth k: of the blocks that reached depth k on a node (k-1 blocks on top of them), the share that a later reorg on that node removed; healthy = before the partition, whole run = partition and crashes included. `-` means no block reached that depth. The model is 1-exp(-((n-1)/n) d/T) with d the measured median one-hop delay and T the time between blocks found; agrees = within 3 binomial standard errors + 0.03.\n\n")
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
	b.WriteString("\n## Crashes (one quarter, then one half of the miners or stake down)\n\n| run | latency | window | blocks/s | stale share | new finalized checkpoints |\n|---|---|---|---|---|---|\n")
	for _, r := range cmp.Runs {
		for _, p := range r.Crash {
			fmt.Fprintf(&b, "| %s | %.0f ms | %s | %.2f | %.3f | %d |\n", r.Variant, r.LatencyMs, p.Name, p.BlocksPerSec, p.StaleShare, p.Finalizations)
		}
	}
	b.WriteString("\n## Every run\n\n")
	for _, r := range cmp.Runs {
		run := fmt.Sprintf("runs/%s-%.0fms", r.Variant, r.LatencyMs)
		fmt.Fprintf(&b, "- %s at %.0f ms: [report](%s/report.md), ![heads](%s/heads.svg)\n", r.Variant, r.LatencyMs, run, run)
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644)
}

func prob(reverted []float64, reached []int, k int) string {
	if k > len(reached) || reached[k-1] == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f", reverted[k-1])
}

func secs(q Quantiles) string {
	if q.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f / %.1f", q.P50/1000, q.P90/1000)
}
