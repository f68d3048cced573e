package fault

import (
	"errors"
	"fmt"

	"github.com/chaind/chaind/linkmodel"
)

// Partition cuts every link between nodes of different groups; nodes in no
// group are alone.
type Partition struct{ Groups [][]int }

// Heal restores every link a partition cut.
type Heal struct{}

// Kill stops a node at once (SIGKILL for a process); it neither produces
// nor receives until restarted.
type Kill struct{ Node int }

// Restart starts a killed node again on its data.
type Restart struct{ Node int }

// SetLink shapes the direction From -> To.
type SetLink struct {
	From, To int
	Link     linkmodel.Params
}

// Send sends Count transfers at Rate per second through the nodes.
type Send struct {
	Count int
	Rate  float64
}

// Stop ends the timeline.
type Stop struct{}

var (
	_ Fault = Partition{}
	_ Fault = Heal{}
	_ Fault = Kill{}
	_ Fault = Restart{}
	_ Fault = SetLink{}
	_ Fault = Send{}
	_ Fault = Stop{}
)

func (Partition) Name() string { return "partition" }

// Check refuses a node outside the network or in two groups.
func (f Partition) Check(n int) error {
	seen := map[int]bool{}
	for _, g := range f.Groups {
		for _, node := range g {
			if err := checkNode(node, n); err != nil {
				return err
			}
			if seen[node] {
				return fmt.Errorf("node %d is in two groups", node)
			}
			seen[node] = true
		}
	}
	return nil
}

func (f Partition) Apply(t any) error {
	return apply(t, f, func(p Partitioner) error { return p.Partition(f.Groups) })
}
func (f Partition) String() string { return fmt.Sprintf("partition %v", f.Groups) }

func (Heal) Name() string    { return "heal" }
func (Heal) Check(int) error { return nil }
func (f Heal) Apply(t any) error {
	return apply(t, f, func(p Partitioner) error { return p.Heal() })
}
func (Heal) String() string { return "heal" }

func (Kill) Name() string        { return "kill" }
func (f Kill) Check(n int) error { return checkNode(f.Node, n) }
func (f Kill) Apply(t any) error {
	return apply(t, f, func(c Crasher) error { return c.Kill(f.Node) })
}
func (f Kill) String() string { return fmt.Sprintf("kill %d", f.Node) }

func (Restart) Name() string        { return "restart" }
func (f Restart) Check(n int) error { return checkNode(f.Node, n) }
func (f Restart) Apply(t any) error {
	return apply(t, f, func(c Crasher) error { return c.Restart(f.Node) })
}
func (f Restart) String() string { return fmt.Sprintf("restart %d", f.Node) }

func (SetLink) Name() string { return "set-link" }

// Check refuses a link that is not between two distinct nodes of the
// network, and shaping no link can have.
func (f SetLink) Check(n int) error {
	if f.From == f.To || checkNode(f.From, n) != nil || checkNode(f.To, n) != nil {
		return fmt.Errorf("no link %d->%d", f.From, f.To)
	}
	return f.Link.Check()
}

func (f SetLink) Apply(t any) error {
	return apply(t, f, func(s LinkShaper) error { return s.SetLink(f.From, f.To, f.Link) })
}
func (f SetLink) String() string {
	return fmt.Sprintf("set-link %d->%d latency=%v loss=%.3f", f.From, f.To, f.Link.Latency, f.Link.Loss)
}

func (Send) Name() string { return "send" }
func (f Send) Check(int) error {
	if f.Count <= 0 || f.Rate <= 0 {
		return errors.New("send: count and rate must be positive")
	}
	return nil
}
func (f Send) Apply(t any) error {
	return apply(t, f, func(s TxSender) error { return s.SendTxs(f.Count, f.Rate) })
}
func (f Send) String() string { return fmt.Sprintf("send %d txs at %.1f/s", f.Count, f.Rate) }

func (Stop) Name() string    { return "stop" }
func (Stop) Check(int) error { return nil }
func (f Stop) Apply(t any) error {
	return apply(t, f, func(s Stopper) error { return s.Stop() })
}
func (Stop) String() string { return "stop" }
