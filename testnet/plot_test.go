package testnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
