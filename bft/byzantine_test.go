package bft

import "fmt"

// Byzantine validators are honest machines behind a wrapper that rewrites
// what they send: the machine decides what an honest validator would send,
// the wrapper decides what is signed and who gets it.

// sending is one signed message and its recipients.
type sending struct {
	msg Message
	to  []int
}

type behaviour interface {
	// send turns what n's machine would send into what n sends.
	send(w *world, n *simNode, msg Message) []sending
	fmt.Stringer
}

// everyone lists every node.
func everyone(w *world) []int {
	to := make([]int, len(w.nodes))
	for i := range to {
		to[i] = i
	}
	return to
}

// split deals the nodes into the coalition's two groups: the first holds
// the Byzantine validators and the honest ones of group 0, the second the
// honest ones of group 1. The Byzantine validators act together: each
// shows one group one story and the other group another.
func split(w *world) (a, b []int) {
	for i, n := range w.nodes {
		if !n.honest || w.groups[i] == 0 {
			a = append(a, i)
		} else {
			b = append(b, i)
		}
	}
	return a, b
}

// equivocator proposes two values in its rounds, one to each group, and
// tells the coalition which.
type equivocator struct{}

func (equivocator) String() string { return "equivocating proposer" }

func (equivocator) send(w *world, n *simNode, msg Message) []sending {
	if msg.Type != TypeProposal {
		return []sending{{msg, everyone(w)}}
	}
	a, b := split(w)
	alt := msg
	alt.Value = valueOf(n.idx, msg.Height, uint64(msg.Round)+1)
	w.stories[[2]int64{int64(msg.Height), int64(msg.Round)}] = [2]Value{msg.Value, alt.Value}
	return []sending{{msg, a}, {alt, b}}
}

// doubleVoter signs two different votes for each of its votes, one to each
// group: for the two proposals of an equivocating proposer of the
// coalition, each to the group that got it; otherwise its machine's vote
// to the first group and another value to the second.
type doubleVoter struct{}

func (doubleVoter) String() string { return "double prevote/precommit" }

func (doubleVoter) send(w *world, n *simNode, msg Message) []sending {
	if msg.Type == TypeProposal {
		return []sending{{msg, everyone(w)}}
	}
	a, b := split(w)
	first, second := msg, msg
	if story, ok := w.stories[[2]int64{int64(msg.Height), int64(msg.Round)}]; ok {
		first.Value, second.Value = story[0], story[1]
	} else {
		second.Value = otherValue(n, msg)
	}
	return []sending{{first, a}, {second, b}}
}

// twoFaced is an equivocating proposer and a double voter at once.
type twoFaced struct{}

func (twoFaced) String() string { return "equivocating proposer and double voter" }

func (twoFaced) send(w *world, n *simNode, msg Message) []sending {
	if msg.Type == TypeProposal {
		return equivocator{}.send(w, n, msg)
	}
	return doubleVoter{}.send(w, n, msg)
}

// amnesiac forgets its lock: it prevotes for whatever was proposed in the
// round, whatever it is locked on.
type amnesiac struct{}

func (amnesiac) String() string { return "amnesia" }

func (amnesiac) send(w *world, n *simNode, msg Message) []sending {
	if msg.Type == TypePrevote {
		for _, m := range n.byHeight[msg.Height] {
			if m.Type == TypeProposal && m.Round == msg.Round {
				msg.Value = m.Value
				break
			}
		}
	}
	return []sending{{msg, everyone(w)}}
}

// silent sends nothing.
type silent struct{}

func (silent) String() string { return "silent" }

func (silent) send(*world, *simNode, Message) []sending { return nil }

// otherValue is a value for msg's height and round other than msg's: one
// proposed there if n saw one, else nil for a vote for a value, else one of
// n's own.
func otherValue(n *simNode, msg Message) Value {
	for _, m := range n.byHeight[msg.Height] {
		if m.Type == TypeProposal && m.Round == msg.Round && m.Value != msg.Value {
			return m.Value
		}
	}
	if !msg.Value.IsNil() {
		return Nil
	}
	return valueOf(n.idx, msg.Height, uint64(msg.Round)+1)
}
