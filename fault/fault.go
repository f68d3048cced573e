package fault

import (
	"errors"
	"fmt"
	"strings"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/linkmodel"
)

// Step is one timed action as a scenario file spells it. Do names a
// registered fault: partition (Groups), heal, kill (Node), restart (Node),
// set-link (From, To, Latency, Jitter, Loss, Bandwidth in bytes per
// second), send (Count, Rate), stop.
type Step struct {
	At        chain.Duration `json:"at"`
	Do        string         `json:"do"`
	Groups    [][]int        `json:"groups,omitempty"`
	Node      int            `json:"node,omitempty"`
	From      int            `json:"from,omitempty"`
	To        int            `json:"to,omitempty"`
	Latency   chain.Duration `json:"latency,omitempty"`
	Jitter    chain.Duration `json:"jitter,omitempty"`
	Loss      float64        `json:"loss,omitempty"`
	Bandwidth int64          `json:"bandwidth,omitempty"`
	Count     int            `json:"count,omitempty"`
	Rate      float64        `json:"rate,omitempty"`
}

// Fault is one typed action of a timeline.
type Fault interface {
	// Name is the action's name in a step's "do".
	Name() string
	// Check refuses the action on a network of n nodes.
	Check(n int) error
	// Apply performs the action on t; an error wrapping ErrUnsupported if
	// t lacks the capability the action needs.
	Apply(t any) error
	// String is the action as the records spell it.
	String() string
}

// The capabilities faults act through.
type (
	// Partitioner cuts and restores links between groups of nodes.
	Partitioner interface {
		Partition(groups [][]int) error
		Heal() error
	}
	// Crasher kills a node and restarts it.
	Crasher interface {
		Kill(node int) error
		Restart(node int) error
	}
	// LinkShaper sets one direction of one link.
	LinkShaper interface {
		SetLink(from, to int, p linkmodel.Params) error
	}
	// TxSender sends transfers through the nodes.
	TxSender interface {
		SendTxs(count int, rate float64) error
	}
	// Stopper ends a timeline.
	Stopper interface{ Stop() error }
)

var (
	// ErrUnknown is a step whose "do" names no registered fault.
	ErrUnknown = errors.New("unknown action")
	// ErrUnsupported is a fault applied to what lacks its capability.
	ErrUnsupported = errors.New("not supported")
)

// entry is one registered fault: its name, the capability it needs and how
// a step spells it.
type entry struct {
	name   string
	needs  func(t any) bool
	decode func(Step) Fault
}

// registry is every fault, in the order error messages list them.
var registry = []entry{
	{"partition", is[Partitioner], func(s Step) Fault { return Partition{Groups: s.Groups} }},
	{"heal", is[Partitioner], func(Step) Fault { return Heal{} }},
	{"kill", is[Crasher], func(s Step) Fault { return Kill{Node: s.Node} }},
	{"restart", is[Crasher], func(s Step) Fault { return Restart{Node: s.Node} }},
	{"set-link", is[LinkShaper], func(s Step) Fault {
		return SetLink{From: s.From, To: s.To,
			Link: linkmodel.Params{Latency: s.Latency.D(), Jitter: s.Jitter.D(), Loss: s.Loss, Bandwidth: s.Bandwidth}}
	}},
	{"send", is[TxSender], func(s Step) Fault { return Send{Count: s.Count, Rate: s.Rate} }},
	{"stop", is[Stopper], func(Step) Fault { return Stop{} }},
}

func is[T any](t any) bool { _, ok := t.(T); return ok }

func lookup(name string) *entry {
	for i := range registry {
		if registry[i].name == name {
			return &registry[i]
		}
	}
	return nil
}

// Names lists the registered faults.
func Names() []string {
	names := make([]string, len(registry))
	for i, e := range registry {
		names[i] = e.name
	}
	return names
}

// Fault returns the fault the step spells, or an error wrapping
// ErrUnknown that names the known ones.
func (s Step) Fault() (Fault, error) {
	e := lookup(s.Do)
	if e == nil {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknown, s.Do, strings.Join(Names(), ", "))
	}
	return e.decode(s), nil
}

// Supports reports whether t has the capability f needs (false for a fault
// the registry does not hold).
func Supports(t any, f Fault) bool {
	e := lookup(f.Name())
	return e != nil && e.needs(t)
}

// Supported lists the faults t can apply.
func Supported(t any) []string {
	var names []string
	for _, e := range registry {
		if e.needs(t) {
			names = append(names, e.name)
		}
	}
	return names
}

// apply gives f's action the capability C of t.
func apply[C any](t any, f Fault, do func(C) error) error {
	c, ok := t.(C)
	if !ok {
		return fmt.Errorf("%s: %w by %T", f.Name(), ErrUnsupported, t)
	}
	return do(c)
}

func checkNode(node, n int) error {
	if node < 0 || node >= n {
		return fmt.Errorf("no node %d", node)
	}
	return nil
}
