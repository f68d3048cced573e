package testnet

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Round ticks: every label is a multiple of 1, 2 or 5 times a power of
// ten, printed exactly, two to eleven of them, over random ranges.
func TestRoundTicks(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		lo := (rng.Float64() - 0.3) * math.Pow(10, float64(rng.Intn(8)-3))
		hi := lo + rng.Float64()*math.Pow(10, float64(rng.Intn(8)-3)) + 1e-6
		whole := i%2 == 0 && hi-lo > 2
		var labels []float64
		for _, tk := range (roundTicks{whole: whole}).Ticks(lo, hi) {
			if tk.Value < lo-1e-9*math.Abs(lo) || tk.Value > hi+1e-9*math.Abs(hi) {
				t.Fatalf("[%g, %g]: tick %g outside", lo, hi, tk.Value)
			}
			if tk.Label == "" {
				continue
			}
			v, err := strconv.ParseFloat(tk.Label, 64)
			if err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Fatalf("[%g, %g]: label %q at %g", lo, hi, tk.Label, tk.Value)
			}
			if whole && v != math.Trunc(v) {
				t.Fatalf("[%g, %g]: label %q is not whole", lo, hi, tk.Label)
			}
			labels = append(labels, v)
		}
		if len(labels) < 2 || len(labels) > 11 {
			t.Fatalf("[%g, %g]: %d labels %v", lo, hi, len(labels), labels)
		}
		step := labels[1] - labels[0]
		m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
		if r := math.Round(m); math.Abs(m-r) > 1e-6 || (r != 1 && r != 2 && r != 5 && r != 10) {
			t.Fatalf("[%g, %g]: step %g is not 1, 2 or 5 times a power of ten (%v)", lo, hi, step, labels)
		}
	}
}

func TestPowerTicks(t *testing.T) {
	var labels []string
	for _, tk := range (powerTicks{}).Ticks(0.001, 0.5) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "0.001 0.01 0.1 1" {
		t.Fatalf("log ticks %q", got)
	}
}

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
