package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// sim eclipse prints one JSON object whose rows carry exact intervals, and
// refuses an attacker it cannot read.
func TestSimEclipseCLI(t *testing.T) {
	out, err := runChaind(t, "sim", "eclipse", "--attackers", "2x16,50x1", "--trials", "3", "--honest-new", "200", "--honest-tried", "50",
		"--attack", "1h", "--json")
	if err != nil {
		t.Fatalf("sim eclipse: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var got struct {
		Results []struct {
			Groups   int `json:"groups"`
			Outbound struct {
				K, N   int
				Lo, Hi float64
			} `json:"outbound"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, out)
	}
	if len(got.Results) != 2 || got.Results[0].Groups != 2 || got.Results[1].Outbound.N != 24 || got.Results[1].Outbound.Hi <= got.Results[1].Outbound.Lo {
		t.Fatalf("results %+v", got.Results)
	}
	if out, err := runChaind(t, "sim", "eclipse", "--attackers", "32"); err == nil || !strings.Contains(out, "GROUPSxPER_GROUP") {
		t.Fatalf("--attackers 32 accepted: %v\n%s", err, out)
	}
}
