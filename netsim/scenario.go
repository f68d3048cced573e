package netsim

import (
	"fmt"
	"slices"

	"github.com/chaind/chaind/testnet"
)

// The timeline of a testnet scenario file runs in the simulation too:
// partition, heal, kill, restart and stop. A cut link drops what is in
// flight on it; a killed node neither mines nor receives. When a link comes
// back (heal, restart) its two ends send each other the blocks the other
// lacks, oldest first, as a node that reconnects syncs from its peer.

// schedule arms the scenario's steps.
func (s *sim) schedule(steps []testnet.Step) error {
	for i, st := range steps {
		switch st.Do {
		case "partition":
			if err := s.checkGroups(st.Groups); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		case "kill", "restart":
			if st.Node < 0 || st.Node >= len(s.nodes) {
				return fmt.Errorf("step %d: no node %d", i, st.Node)
			}
		case "heal", "stop":
		default:
			return fmt.Errorf("step %d: %q is not simulated (partition, heal, kill, restart and stop are)", i, st.Do)
		}
	}
	for _, st := range steps {
		s.clk.AfterFunc(st.At.D(), func() { s.step(st) })
	}
	return nil
}

func (s *sim) checkGroups(groups [][]int) error {
	seen := map[int]bool{}
	for _, g := range groups {
		for _, n := range g {
			if n < 0 || n >= len(s.nodes) || seen[n] {
				return fmt.Errorf("partition groups %v: each node at most once, between 0 and %d", groups, len(s.nodes)-1)
			}
			seen[n] = true
		}
	}
	return nil
}

func (s *sim) step(st testnet.Step) {
	now := s.clk.Now().UnixMilli()
	switch st.Do {
	case "partition":
		s.group = make([]int, len(s.nodes))
		for i := range s.group {
			s.group[i] = -1 // nodes in no group are alone
		}
		for g, members := range st.Groups {
			for _, n := range members {
				s.group[n] = g
			}
		}
		s.rec.Actions = append(s.rec.Actions, testnet.ActionRec{TimeMs: now, What: fmt.Sprintf("partition %v", st.Groups)})
	case "heal":
		s.group = nil
		s.rec.Actions = append(s.rec.Actions, testnet.ActionRec{TimeMs: now, What: "heal"})
		for _, n := range s.nodes {
			for _, p := range n.peers {
				if n.id < p {
					s.resync(n, s.nodes[p])
				}
			}
		}
	case "kill":
		n := s.nodes[st.Node]
		n.down = true
		s.scheduleMining(n)
		s.rec.Actions = append(s.rec.Actions, testnet.ActionRec{TimeMs: now, What: fmt.Sprintf("kill %d", st.Node)})
	case "restart":
		n := s.nodes[st.Node]
		n.down = false
		s.scheduleMining(n)
		s.rec.Actions = append(s.rec.Actions, testnet.ActionRec{TimeMs: now, What: fmt.Sprintf("restart %d", st.Node)})
		for _, p := range n.peers {
			s.resync(n, s.nodes[p])
		}
	case "stop":
		if !s.stopped {
			s.stop()
		}
	}
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
