package testnet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/fault"
)

// Scenario is a repeatable experiment: a network and a timeline.
type Scenario struct {
	Nodes     int            `json:"nodes"`
	Consensus string         `json:"consensus"`
	BlockTime chain.Duration `json:"block_time"`
	Latency   chain.Duration `json:"latency"`
	Jitter    chain.Duration `json:"jitter"`
	Loss      float64        `json:"loss"`
	Bandwidth int64          `json:"bandwidth"` // bytes per second
	Seed      int64          `json:"seed"`
	Steps     []Step         `json:"steps"`
	// Proof of stake.
	Stakes      []int64   `json:"stakes,omitempty"`
	HashPower   []float64 `json:"hashpower,omitempty"` // pow: each node's share of the hash power
	EpochLength uint64    `json:"epoch_length,omitempty"`
	Finality    *bool     `json:"finality,omitempty"`
}

// Step is one timed action, as the fault registry spells it.
type Step = fault.Step

// LoadScenario reads and checks a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	sc := new(Scenario)
	if err := dec.Decode(sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	if sc.Nodes == 0 {
		sc.Nodes = 4
	}
	stops := 0
	for i, st := range sc.Steps {
		f, err := st.Fault()
		if err == nil {
			err = f.Check(sc.Nodes)
		}
		if err != nil {
			return nil, fmt.Errorf("scenario %s: step %d: %w", path, i, err)
		}
		if _, stop := f.(fault.Stop); stop {
			stops++
		}
	}
	if stops != 1 {
		return nil, fmt.Errorf("scenario %s: needs exactly one \"stop\" step", path)
	}
	sort.SliceStable(sc.Steps, func(i, j int) bool { return sc.Steps[i].At < sc.Steps[j].At })
	return sc, nil
}

// Options returns the testnet options of the scenario in dir.
func (sc *Scenario) Options(dir, binary string, log *slog.Logger) Options {
	return Options{Dir: dir, Nodes: sc.Nodes, Consensus: sc.Consensus, BlockTime: sc.BlockTime.D(), Seed: sc.Seed, Binary: binary, Logger: log,
		Link:   LinkParams{Latency: sc.Latency.D(), Jitter: sc.Jitter.D(), Loss: sc.Loss, Bandwidth: sc.Bandwidth},
		Stakes: sc.Stakes, EpochLength: sc.EpochLength, NoFinality: sc.Finality != nil && !*sc.Finality, HashPower: slices.Clone(sc.HashPower)}
}

// Run performs the timeline on a running testnet, from now, and returns at
// the stop step (without taking the testnet down). progress, if not nil, is
// called before each step.
func (sc *Scenario) Run(s *Supervisor, progress func(step Step, elapsed time.Duration)) error {
	target := &scenarioTarget{Supervisor: s}
	start := s.clock.Now()
	for _, st := range sc.Steps {
		if d := start.Add(st.At.D()).Sub(s.clock.Now()); d > 0 {
			t := s.clock.NewTimer(d)
			select {
			case <-t.C():
			case <-s.down:
				t.Stop()
				return errors.New("testnet went down before the scenario ended")
			}
		}
		if progress != nil {
			progress(st, s.clock.Now().Sub(start))
		}
		f, err := st.Fault()
		if err == nil {
			err = f.Apply(target)
		}
		if target.stopped {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scenario step at %v (%s): %w", st.At.D(), st.Do, err)
		}
	}
	return nil
}

// scenarioTarget is what a scenario's faults act on: the supervisor (whose
// Heal cannot fail), and a stop that ends the timeline.
type scenarioTarget struct {
	*Supervisor
	stopped bool
}

func (t *scenarioTarget) Heal() error {
	t.Supervisor.Heal()
	return nil
}

func (t *scenarioTarget) Stop() error {
	t.stopped = true
	return nil
}
