package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaind/chaind/netsim"
	"github.com/chaind/chaind/stats"
	"github.com/chaind/chaind/testnet"
)

const simCompareSynopsis = "sim compare [--consensus pow,pos] [--nodes N] [--block-time D] [--duration D] [--latency MODEL]... [--peers K] [--tx-rate R] [--relay push|announce] [--seed S] [--out DIR] [--json]"

// simCompare runs the comparison of 'chaind testnet compare' (a healthy
// stretch, a partition into halves and its heal, crashes of a quarter and
// then half of the nodes, and their restart) in the simulator, at any
// number of nodes, and measures it with the testnet's own analysis.
func simCompare(args []string) error {
	fs := newFlagSet("sim compare", simCompareSynopsis)
	consensus := fs.StringSlice("consensus", []string{"pow", "pos"}, "consensus variants to compare: pow, and pos (with and without finality)")
	shared := addSimFlags(fs, 10*time.Second, 2)
	duration := fs.Duration("duration", time.Hour, "simulated time per run")
	latencies := fs.StringArray("latency", []string{"const:200ms", "bitcoin"}, "link model of one run (repeat the flag to compare several)")
	out := fs.String("out", "", "write results.json and report.md here")
	asJSON := fs.Bool("json", false, "print one JSON object on the last line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	variants, err := simVariants(*consensus)
	if err != nil {
		return err
	}
	base, err := shared.config()
	if err != nil {
		return err
	}
	if *duration <= 0 {
		return fmt.Errorf("--duration %v: want a positive simulated time", *duration)
	}
	base.Duration, base.Steps = *duration, simSteps(testnet.CompareSteps(base.Nodes, *duration))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cmp := &testnet.Comparison{Nodes: base.Nodes, DurationSec: duration.Seconds(), BlockTimeMs: base.BlockTime.Milliseconds()}
	var models []string
	for _, model := range *latencies {
		network, err := netsim.ParseNetwork(model)
		if err != nil {
			return fmt.Errorf("--latency: %w", err)
		}
		for _, v := range variants {
			slog.Info("Comparison run", "variant", v.Name, "latency", model)
			cfg := base
			cfg.Network = network
			cfg.Consensus, cfg.NoFinality = v.Consensus, !v.Finality
			if v.Consensus == "pos" {
				cfg.HashPower = nil
			}
			res, err := netsim.Run(ctx, cfg)
			if err != nil {
				return fmt.Errorf("%s at %s: %w", v.Name, model, err)
			}
			cmp.Runs = append(cmp.Runs, *testnet.Analyse(v.Name, network.Median(), res.Records, testnet.Halves(base.Nodes)))
			models = append(models, model)
		}
	}
	if *out != "" {
		if err := writeSimComparison(*out, cmp, models); err != nil {
			return err
		}
	}
	if *asJSON {
		return printJSON(cmp)
	}
	return writeComparisonTable(os.Stdout, cmp, models)
}

// simVariants is the variants of 'testnet compare' whose consensus is in
// the --consensus list.
func simVariants(consensus []string) ([]testnet.Variant, error) {
	var out []testnet.Variant
	for _, c := range consensus {
		found := false
		for _, v := range testnet.Variants {
			if v.Consensus == c {
				found = true
				out = append(out, v)
			}
		}
		if !found {
			return nil, fmt.Errorf("--consensus %q: want pow or pos", c)
		}
	}
	return out, nil
}

func writeSimComparison(dir string, cmp *testnet.Comparison, models []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	data, err := json.MarshalIndent(cmp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# The comparison in the simulator\n\n%d nodes, target block interval %d ms, %.0f s of simulated time per run; healthy until %.0f%% of the run, then split in halves until %.0f%%, a quarter of the nodes crashed at %.0f%%, a second quarter at %.0f%%, all restarted from %.0f%%.\n\n",
		cmp.Nodes, cmp.BlockTimeMs, cmp.DurationSec, 45.0, 65.0, 75.0, 85.0, 95.0)
	b.WriteString("```\n")
	if err := writeComparisonTable(&b, cmp, models); err != nil {
		return err
	}
	b.WriteString("```\n")
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// writeComparisonTable prints one block of rows per run.
func writeComparisonTable(w io.Writer, cmp *testnet.Comparison, models []string) error {
	pct := func(p stats.Proportion) string {
		return fmt.Sprintf("%.2f%% [%.2f%%, %.2f%%] (%d of %d)", 100*p.P, 100*p.Lo, 100*p.Hi, p.K, p.N)
	}
	for i, r := range cmp.Runs {
		rep := r.Report
		fmt.Fprintf(w, "%s, latency %s (median one way %.0f ms)\n", r.Variant, models[i], r.LatencyMs)
		row := func(k, v string) { fmt.Fprintf(w, "  %-40s %s\n", k, v) }
		row("stale rate, healthy phase", pct(r.HealthyStaleCI))
		row("model 1-exp(-((n-1)/n) d/T)", fmt.Sprintf("%.4f (exact test p = %.3g)", r.ModelStaleRate, r.ModelPValue))
		row("reorgs (all nodes), deepest", fmt.Sprintf("%d, %d", rep.Reorgs, rep.MaxReorgDepth))
		for _, k := range []int{1, 2, 3, 6} {
			if k <= len(r.RevertedAtDepthHealthyCI) {
				row(fmt.Sprintf("P(revert | reached depth %d), healthy", k), pct(r.RevertedAtDepthHealthyCI[k-1]))
			}
		}
		row("blocks made by each half while split", fmt.Sprintf("%d | %d", r.PartitionSideBlocks[0], r.PartitionSideBlocks[1]))
		row("deepest reorg after the heal", fmt.Sprint(r.HealReorgDepth))
		for _, ph := range r.Crash {
			row("blocks/s, "+ph.Name, fmt.Sprintf("%.4f [%.4f, %.4f]", ph.BlocksPerSec, ph.BlocksPerSecCI.Lo, ph.BlocksPerSecCI.Hi))
		}
		if q, ok := rep.Confirmations[1]; ok {
			row("tx inclusion (ms)", q.String())
		}
		if q, ok := rep.Confirmations[6]; ok {
			row("tx to 6 confirmations (ms)", q.String())
		}
		row("all nodes on the same head", fmt.Sprint(rep.HeadsAgree))
	}
	return nil
}
