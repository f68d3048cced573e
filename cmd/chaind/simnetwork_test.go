package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSimNetworkIsDeterministic runs the same simulation twice through the
// binary: every field of the JSON summary but the wall-clock ones must be
// identical, and a third run with another seed must differ.
func TestSimNetworkIsDeterministic(t *testing.T) {
	args := []string{"sim", "network", "--nodes", "30", "--blocks", "40", "--latency", "bitcoin", "--block-size", "500kB", "--json"}
	summary := func(extra ...string) map[string]any {
		out, err := runChaind(t, append(args, extra...)...)
		if err != nil {
			t.Fatalf("sim network: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
			t.Fatalf("last line is not JSON: %v\n%s", err, out)
		}
		for k := range m {
			if strings.Contains(k, "wall") {
				delete(m, k)
			}
		}
		for _, k := range []string{"stale_rate", "median_propagation_ms", "blocks", "canonical_blocks", "reorgs", "max_reorg_depth", "finalized_reverted"} {
			if _, ok := m[k]; !ok {
				t.Errorf("summary lacks %q", k)
			}
		}
		return m
	}
	a, b := summary("--seed", "5"), summary("--seed", "5")
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("same seed, different summaries:\n%s\n%s", ja, jb)
	}
	if jc, _ := json.Marshal(summary("--seed", "6")); string(jc) == string(ja) {
		t.Fatal("another seed gave the same summary")
	}
}

// TestSimNetworkReportsByzantine: a simulated Byzantine validator is named
// with its behaviour and whether the chain slashed it, in the table and in
// the JSON summary. Equivocating and double-voting are both slashable, and
// the honest three quarters of the stake include the evidence.
func TestSimNetworkReportsByzantine(t *testing.T) {
	args := []string{"sim", "network", "--consensus", "pos", "--nodes", "4", "--byzantine", "3=equivocate+double-vote",
		"--blocks", "60", "--block-time", "2s", "--epoch-length", "8", "--latency", "const:100ms"}
	out, err := runChaind(t, args...)
	if err != nil || !strings.Contains(out, "byzantine validator (node 3)       equivocate+double-vote: slashed on the best chain") {
		t.Fatalf("sim network: %v; the table does not show node 3 slashed:\n%s", err, out)
	}
	out, err = runChaind(t, append(args, "--json")...)
	if err != nil {
		t.Fatalf("sim network --json: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var m struct {
		Byzantine []struct {
			Node      int    `json:"node"`
			Validator string `json:"validator"`
			Behaviour string `json:"behaviour"`
			Slashed   bool   `json:"slashed"`
		} `json:"byzantine"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	if len(m.Byzantine) != 1 || m.Byzantine[0].Node != 3 || m.Byzantine[0].Behaviour != "equivocate+double-vote" || !m.Byzantine[0].Slashed || len(m.Byzantine[0].Validator) != 42 {
		t.Fatalf("byzantine in the JSON summary: %+v", m.Byzantine)
	}
}
