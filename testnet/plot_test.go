package testnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/stats"
)

// The comparison's figures redraw from the committed results: SVG files
// with a log axis in powers of ten and a legend entry per run.
func TestRedrawCommittedComparison(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../docs/compare/results.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmp, err := Redraw(dir)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "reversal.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">0.01</text>", ">0.1</text>", ">depth k (blocks on top)</text>"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("reversal.svg lacks %s", want)
		}
	}
	for _, r := range cmp.Runs {
		if !strings.Contains(string(svg), r.Variant+", ") {
			t.Errorf("reversal.svg has no legend entry for %s", r.Variant)
		}
	}
	if strings.Contains(string(svg), "NaN") {
		t.Error("reversal.svg has NaN coordinates")
	}
	for _, f := range []string{"reversal-healthy.svg", "stale.svg", "report.md"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// The quick comparison's stale plot: one latency is one point on an axis
// from 0 (not alone on a 49-51 ms axis), and its bars are the exact 95%
// interval the report's table prints.
func TestStaleFigureOfOneLatency(t *testing.T) {
	run := RunResult{Variant: "pow", LatencyMs: 50, HealthyProduced: 60, HealthyStaleRate: 0.05, ModelStaleRate: 0.04}
	run.HealthyStaleCI = stats.Binomial(3, 60)
	f := staleFigure(&Comparison{Runs: []RunResult{run}})
	m := f.Series[0]
	if len(m.Lo) != 1 || m.Lo[0] != run.HealthyStaleCI.Lo || m.Hi[0] != run.HealthyStaleCI.Hi || strings.Contains(m.Name, "standard error") {
		t.Errorf("measured series %q has bars [%v, %v], want the exact interval [%v, %v]", m.Name, m.Lo, m.Hi, run.HealthyStaleCI.Lo, run.HealthyStaleCI.Hi)
	}
	path := filepath.Join(t.TempDir(), "stale.svg")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), ">20</text>") || strings.Contains(string(svg), ">49.5</text>") {
		t.Error("the latency axis does not run from 0 to the one latency")
	}
}
