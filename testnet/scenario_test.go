package testnet

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/fault"
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
		net: newNetwork(), rec: newRecords(filepath.Join(dir, recordsFile)), down: make(chan struct{})}
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

// TestScenarioRefusesUnknownFault: a scenario file whose step names no
// registered fault is refused, with an error naming the step and every
// known fault.
func TestScenarioRefusesUnknownFault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scenario.json")
	if err := os.WriteFile(path, []byte(`{"nodes": 3, "steps": [
		{"at": "10s", "do": "partition", "groups": [[0], [1, 2]]},
		{"at": "20s", "do": "unplug", "node": 1},
		{"at": "60s", "do": "stop"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadScenario(path)
	if !errors.Is(err, fault.ErrUnknown) || !strings.Contains(err.Error(), `step 1: unknown action "unplug"`) {
		t.Fatalf("error %v, want step 1's unknown action", err)
	}
	for _, name := range fault.Names() {
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("error %q does not name %q", err, name)
		}
	}
}

// TestCommittedScenariosMeanTheSame: the scenarios under scenarios/ load,
// and their steps are the faults they always meant, as the records spell
// them.
func TestCommittedScenariosMeanTheSame(t *testing.T) {
	want := map[string][]string{
		"crash.json":          {"send 150 txs at 3.0/s", "kill 3", "kill 2", "restart 2", "restart 3", "stop"},
		"lossy.json":          {"send 300 txs at 10.0/s", "set-link 0->1 latency=400ms loss=0.200", "stop"},
		"partition.json":      {"send 200 txs at 5.0/s", "partition [[0 1] [2 3]]", "heal", "stop"},
		"pos-half-crash.json": {"kill 4", "kill 5", "kill 6", "kill 7", "stop"},
	}
	paths, err := filepath.Glob("scenarios/*.json")
	if err != nil || len(paths) != len(want) {
		t.Fatalf("scenarios %v (%v), want %d", paths, err, len(want))
	}
	for _, path := range paths {
		sc, err := LoadScenario(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, st := range sc.Steps {
			f, err := st.Fault()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, f.String())
		}
		if w := want[filepath.Base(path)]; !slices.Equal(got, w) {
			t.Errorf("%s: %q, want %q", path, got, w)
		}
	}
}
