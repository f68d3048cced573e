package figure

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
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

// Mark labels never overlap: close marks with long labels go on rows of
// their own, however many there are.
func TestMarkLabelsDoNotOverlap(t *testing.T) {
	f := &Figure{Title: "marks", Series: []Series{{Name: "a", X: []float64{0, 100}, Y: []float64{0, 100}}}}
	for i, at := range []float64{10, 11, 12, 13, 14, 15, 60} {
		f.Marks = append(f.Marks, Mark{X: at, Label: "set-link 0->1 latency=300ms loss=0.100 #" + strconv.Itoa(i)})
	}
	path := filepath.Join(t.TempDir(), "marks.svg")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type label struct{ x, y, w float64 }
	var labels []label
	for _, m := range regexp.MustCompile(`<text x="([0-9.]+)" y="(-?[0-9.]+)"[^>]*\n?[^>]*>(set-link[^<]*)</text>`).FindAllStringSubmatch(string(data), -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		labels = append(labels, label{x, y, 3.5 * float64(len(m[3]))}) // 8 px Liberation Serif: wider than 3.5 px a character
	}
	if len(labels) != len(f.Marks) {
		t.Fatalf("%d mark labels in the SVG, want %d", len(labels), len(f.Marks))
	}
	for i, a := range labels {
		for _, b := range labels[i+1:] {
			if a.y == b.y && a.x < b.x+b.w && b.x < a.x+a.w {
				t.Errorf("labels at x=%.0f and x=%.0f share the row y=%.0f and overlap", a.x, b.x, a.y)
			}
		}
	}
}
