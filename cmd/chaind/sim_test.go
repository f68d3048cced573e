package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sim doublespend --plot draws the race next to both formulas.
func TestSimDoublespendPlot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.svg")
	out, err := runChaind(t, "sim", "doublespend", "--q", "0.2", "--z", "0..4", "--trials", "2000", "--plot", path)
	if err != nil || !strings.Contains(out, "plot: "+path) {
		t.Fatalf("sim doublespend --plot: %v\n%s", err, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">q = 0.2 simulated</text>", ">q = 0.2 Nakamoto</text>", ">q = 0.2 exact</text>", ">confirmations z</text>"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("race.svg lacks %s", want)
		}
	}
}
