package testnet

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chaind/chaind/figure"
	"gonum.org/v1/plot/vg"
)

// reversalFigure is P(a block that reached depth k is later reverted) on a
// log axis, one series per run, over the healthy phase or the whole run.
// Depths no block reached are left out; a share of zero has no place on a
// log axis and shows only through its interval when the run has one.
func reversalFigure(cmp *Comparison, healthy bool) *figure.Figure {
	f := &figure.Figure{Title: "Share of blocks at depth k later reverted, whole run", XLabel: "depth k (blocks on top)",
		YLabel: "P(reverted)", LogY: true, WholeX: true}
	if healthy {
		f.Title = "Share of blocks at depth k later reverted, healthy phase"
	}
	for _, r := range cmp.Runs {
		reverted, reached := r.RevertedAtDepth, r.ReachedDepth
		if healthy {
			reverted, reached = r.RevertedAtDepthHealthy, r.ReachedDepthHealthy
		}
		s := figure.Series{Name: fmt.Sprintf("%s, %.0f ms", r.Variant, r.LatencyMs)}
		for k := 1; k <= len(reverted) && k <= len(reached); k++ {
			if reached[k-1] > 0 {
				s.X, s.Y = append(s.X, float64(k)), append(s.Y, reverted[k-1])
			}
		}
		f.Series = append(f.Series, s)
	}
	return f
}

// staleFigure is PoW's healthy-phase stale rate against latency, measured
// (with the exact 95% interval the report's table gives) and modelled, on
// axes from 0, so that one latency (--quick) is a point in context.
func staleFigure(cmp *Comparison) *figure.Figure {
	f := &figure.Figure{Title: "PoW stale rate, healthy phase", XLabel: "one-way latency (ms)",
		YLabel: "stale rate", ZeroX: true, ZeroY: true, Width: 18 * vg.Centimeter, Height: 11 * vg.Centimeter}
	measured := figure.Series{Name: "measured (bars: exact 95% interval)", Points: true}
	model := figure.Series{Name: "model 1-exp(-((n-1)/n) d/T)", Points: true}
	for _, r := range cmp.Runs {
		if r.Variant != "pow" {
			continue
		}
		measured.X, measured.Y = append(measured.X, r.LatencyMs), append(measured.Y, r.HealthyStaleRate)
		measured.Lo, measured.Hi = append(measured.Lo, r.HealthyStaleCI.Lo), append(measured.Hi, r.HealthyStaleCI.Hi)
		model.X, model.Y = append(model.X, r.LatencyMs), append(model.Y, r.ModelStaleRate)
	}
	f.Series = []figure.Series{measured, model}
	return f
}

// Redraw rewrites report.md and the plots of a comparison from the
// results.json in dir, without the runs' records.
func Redraw(dir string) (*Comparison, error) {
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return nil, fmt.Errorf("redraw: %w", err)
	}
	cmp := new(Comparison)
	if err := json.Unmarshal(data, cmp); err != nil {
		return nil, fmt.Errorf("redraw: %s: %w", filepath.Join(dir, "results.json"), err)
	}
	return cmp, writeComparison(dir, cmp)
}
