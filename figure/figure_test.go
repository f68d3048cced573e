package figure

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
		for _, tk := range (RoundTicks{Whole: whole}).Ticks(lo, hi) {
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
			if tk.Label == "-0" {
				t.Fatalf("[%g, %g]: a -0 label", lo, hi)
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
	for _, tk := range (PowerTicks{}).Ticks(0.001, 0.5) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "0.001 0.01 0.1 1" {
		t.Fatalf("log ticks %q", got)
	}
	labels = nil
	for _, tk := range (PowerTicks{}).Ticks(1e-6, 1) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "1e-06 1e-05 0.0001 0.001 0.01 0.1 1" {
		t.Fatalf("log ticks %q", got)
	}
}

// A figure with a log axis, a zero, intervals and marks draws: the zero is
// left out and named in the legend, the ticks are powers of ten.
func TestSaveLogFigure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.svg")
	f := &Figure{Title: "t", XLabel: "x", YLabel: "y", LogY: true, WholeX: true, Series: []Series{
		{Name: "a", X: []float64{1, 2, 3}, Y: []float64{0.2, 0.01, 0}, Lo: []float64{0.1, 0.005, 0}, Hi: []float64{0.3, 0.02, 0.004}},
		{Name: "b", X: []float64{1, 2, 3}, Y: []float64{0.3, 0.05, 0.002}, Step: true},
	}}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	svg := string(data)
	for _, want := range []string{">0.001</text>", ">0.01</text>", ">0.1</text>", ">a (zeros not drawn)</text>", ">b</text>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("figure lacks %s", want)
		}
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Error("figure has non-finite coordinates")
	}
	if err := (&Figure{Marks: []Mark{{X: 1, Label: "m"}}, Series: []Series{{Name: "c", X: []float64{0, 2}, Y: []float64{1, 2}}}}).Save(filepath.Join(t.TempDir(), "g.png")); err != nil {
		t.Fatal(err)
	}
}
