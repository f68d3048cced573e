package netsim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chaind/chaind/fault"
	"github.com/chaind/chaind/testnet"
)

// The timeline of a testnet scenario file runs in the simulation too:
// partition, heal, kill, restart and stop. A cut link drops what is in
// flight on it; a killed node neither mines nor receives. When a link comes
// back (heal, restart) its two ends send each other the blocks the other
// lacks, oldest first, as a node that reconnects syncs from its peer.

// schedule arms the scenario's steps: the faults a simulation supports
// (simTarget's capabilities), checked against its nodes.
func (s *sim) schedule(steps []testnet.Step) error {
	target := &simTarget{s}
	faults := make([]fault.Fault, len(steps))
	for i, st := range steps {
		f, err := st.Fault()
		switch {
		case err != nil:
		case !fault.Supports(target, f):
			err = fmt.Errorf("%q is not simulated (%s are)", st.Do, strings.Join(fault.Supported(target), ", "))
		default:
			err = f.Check(len(s.nodes))
		}
		if err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
		faults[i] = f
	}
	for i, st := range steps {
		s.clk.AfterFunc(st.At.D(), func() {
			if err := faults[i].Apply(target); err != nil {
				panic("netsim: " + err.Error()) // checked above; a simulation's faults cannot fail
			}
		})
	}
	return nil
}

// simTarget applies faults to a simulation.
type simTarget struct{ s *sim }

// action records f at the current simulated time.
func (t *simTarget) action(f fault.Fault) {
	t.s.rec.Actions = append(t.s.rec.Actions, testnet.ActionRec{TimeMs: t.s.clk.Now().UnixMilli(), What: f.String()})
}

func (t *simTarget) Partition(groups [][]int) error {
	s := t.s
	s.group = make([]int, len(s.nodes))
	for i := range s.group {
		s.group[i] = -1 // nodes in no group are alone
	}
	for g, members := range groups {
		for _, n := range members {
			s.group[n] = g
		}
	}
	t.action(fault.Partition{Groups: groups})
	return nil
}

func (t *simTarget) Heal() error {
	s := t.s
	s.group = nil
	t.action(fault.Heal{})
	for _, n := range s.nodes {
		for _, p := range n.peers {
			if n.id < p {
				s.resync(n, s.nodes[p])
			}
		}
	}
	return nil
}

func (t *simTarget) Kill(node int) error {
	n := t.s.nodes[node]
	n.down = true
	t.s.scheduleMining(n)
	t.action(fault.Kill{Node: node})
	return nil
}

func (t *simTarget) Restart(node int) error {
	s := t.s
	n := s.nodes[node]
	n.down = false
	s.scheduleMining(n)
	t.action(fault.Restart{Node: node})
	for _, p := range n.peers {
		s.resync(n, s.nodes[p])
	}
	return nil
}

func (t *simTarget) Stop() error {
	if !t.s.stopped {
		t.s.stop()
	}
	return nil
}

// linked reports whether a message can cross from a to b now.
func (s *sim) linked(a, b *node) bool {
	if a.down || b.down {
		return false
	}
	return s.group == nil || (s.group[a.id] == s.group[b.id] && s.group[a.id] >= 0)
}

// resync makes a and b send each other what the other has not seen.
func (s *sim) resync(a, b *node) {
	if !s.linked(a, b) {
		return
	}
	s.sendMissing(a, b)
	s.sendMissing(b, a)
}

func (s *sim) sendMissing(from, to *node) {
	var missing []*blockInfo
	for h := range from.seen {
		if !to.seen[h] {
			missing = append(missing, s.blocks[h])
		}
	}
	slices.SortFunc(missing, func(x, y *blockInfo) int {
		if x.block.Height() != y.block.Height() {
			return int(x.block.Height()) - int(y.block.Height())
		}
		return x.seq - y.seq
	})
	for _, bi := range missing {
		s.send(from, to, &delivery{block: bi.block, from: from.id})
	}
}
