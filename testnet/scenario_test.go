package testnet

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/clock"
)

// TestScenarioTimelineOnTheClock runs a scenario's partition, set-link and
// heal steps on a supervisor whose clock is simulated (its links have no
// nodes behind them): each step happens exactly at its time on the clock,
// and the records carry those times.
func TestScenarioTimelineOnTheClock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scenario.json")
	if err := os.WriteFile(path, []byte(`{"nodes": 3, "steps": [
		{"at": "40s", "do": "heal"},
		{"at": "10s", "do": "partition", "groups": [[0], [1, 2]]},
		{"at": "25s", "do": "set-link", "from": 0, "to": 1, "latency": "200ms"},
		{"at": "60s", "do": "stop"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0)
	clk := clock.NewSim(start)
	s := &Supervisor{opts: Options{Nodes: sc.Nodes}, log: slog.New(slog.DiscardHandler), clock: clk,
		net: newNetwork(1, func(int) string { return "" }, clk), rec: newRecords(filepath.Join(dir, recordsFile)), down: make(chan struct{})}
	var elapsed []time.Duration
	cutAtSetLink := false
	done := make(chan error, 1)
	go func() {
		done <- sc.Run(s, func(st Step, d time.Duration) {
			elapsed = append(elapsed, d)
			if st.Do == "set-link" {
				cutAtSetLink = s.net.get(0, 1).Cut && s.net.get(2, 0).Cut && !s.net.get(1, 2).Cut
			}
		})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range sc.Steps {
		if err := clk.BlockUntil(ctx, 1); err != nil {
			t.Fatal("the timeline did not wait on the clock")
		}
		clk.Step()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{10 * time.Second, 25 * time.Second, 40 * time.Second, 60 * time.Second}
	if len(elapsed) != len(want) {
		t.Fatalf("steps at %v, want %v", elapsed, want)
	}
	for i := range want {
		if elapsed[i] != want[i] {
			t.Fatalf("steps at %v, want %v", elapsed, want)
		}
	}
	if !cutAtSetLink {
		t.Fatal("the partition did not cut 0 from 1 and 2 (and only that) before the set-link step")
	}
	if p := s.net.get(0, 1); p.Cut || p.Latency != 200*time.Millisecond {
		t.Fatalf("link 0->1 after the heal: %+v", p)
	}
	acts := s.rec.Actions
	wantActs := []ActionRec{
		{start.Add(10 * time.Second).UnixMilli(), "partition [[0] [1 2]]"},
		{start.Add(25 * time.Second).UnixMilli(), "set-link 0->1 latency=200ms loss=0.000"},
		{start.Add(40 * time.Second).UnixMilli(), "heal"},
	}
	if len(acts) != len(wantActs) {
		t.Fatalf("recorded %+v, want %+v", acts, wantActs)
	}
	for i := range wantActs {
		if acts[i] != wantActs[i] {
			t.Fatalf("recorded %+v, want %+v", acts, wantActs)
		}
	}
}
