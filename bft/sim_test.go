package bft

import (
	"container/heap"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// This file is the schedule explorer's world: validators running the real
// Machine, a network that delays, reorders, duplicates and drops messages
// before a global stabilisation time (GST) and delivers each within delta
// after it, a gossip layer, and a simulated clock that is an event queue.

const testChain = "bft-test"

// netParams is one schedule's network.
type netParams struct {
	gst      time.Duration // global stabilisation time
	delta    time.Duration // delivery bound after GST
	maxDelay time.Duration // delays before GST are uniform in [0, maxDelay]
	drop     float64       // probability a message sent before GST is lost
	dup      float64       // probability a message is delivered twice
}

// simEvent is one entry of the event queue: an event for node at time at.
type simEvent struct {
	at   time.Duration
	seq  uint64
	node int
	ev   Event
	gst  bool // the stabilisation moment itself
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simNode is one validator: its machine, and what its gossip layer keeps.
type simNode struct {
	idx       int
	m         *Machine
	honest    bool
	byz       behaviour // what rewrites its messages (nil: none)
	seen      map[string]bool
	byHeight  map[Height][]Message // every message it has, sent or received
	received  []Message            // every message it received, for evidence
	decisions map[Height]Decision
	answered  map[[3]int64]bool // gossip answers given: (validator, height, round)
	finished  bool
	rep       *Replica  // when set, the validator runs as a replica on disk
	signed    []Message // what the replica signed, across restarts
}

// world is one schedule being run.
type world struct {
	rng    *rand.Rand
	net    netParams
	vals   *ValidatorSet
	keys   []ed25519.PrivateKey
	nodes  []*simNode
	queue  eventQueue
	seq    uint64
	now    time.Duration
	events int
	err    error  // a replica's failure, which ends the run
	target Height // heights every honest validator must decide
	// groups deals the honest validators into the two groups the
	// Byzantine coalition tells different stories; stories are the two
	// values its equivocating proposers proposed, by (height, round).
	groups  []int
	stories map[[2]int64][2]Value
	// atGST is each honest validator's (height, round) at GST.
	atGST map[int][2]int64
}

// valueOf is what validator i proposes at height h: distinct per proposer,
// so that two decisions differ whenever they come from different proposals.
func valueOf(i int, h Height, salt uint64) Value {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(i))
	binary.BigEndian.PutUint64(b[8:16], uint64(h))
	binary.BigEndian.PutUint64(b[16:], salt)
	return sha256.Sum256(b[:])
}

func (w *world) push(at time.Duration, node int, ev Event) {
	w.seq++
	heap.Push(&w.queue, simEvent{at: at, seq: w.seq, node: node, ev: ev})
}

// transmit puts msg on the link to node to.
func (w *world) transmit(to int, msg Message) {
	if to == msg.Validator {
		w.push(w.now, to, Receive{Msg: msg})
		return
	}
	copies := 1
	if w.rng.Float64() < w.net.dup {
		copies = 2
	}
	for range copies {
		if at := w.deliveryTime(); at != neverArrives {
			w.push(at, to, Receive{Msg: msg})
		}
	}
}

// deliveryTime is when a message sent now arrives, or neverArrives.
func (w *world) deliveryTime() time.Duration {
	if w.now >= w.net.gst {
		return w.now + randDur(w.rng, w.net.delta)
	}
	if w.rng.Float64() < w.net.drop {
		return neverArrives
	}
	at := w.now + randDur(w.rng, w.net.maxDelay)
	if at > w.net.gst+w.net.delta {
		at = w.net.gst + randDur(w.rng, w.net.delta)
	}
	return at
}

// neverArrives is the delivery time of a lost message.
const neverArrives = time.Duration(-1)

func randDur(rng *rand.Rand, d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(d) + 1))
}

// sign signs msg with its validator's key (a Byzantine validator signs
// whatever it likes; an honest one only what its machine produced).
func (w *world) sign(msg Message) Message {
	msg.Sig = ed25519.Sign(w.keys[msg.Validator], msg.SignBytes(testChain))
	return msg
}

// broadcast sends msg to every node (itself included).
func (w *world) broadcast(msg Message) {
	for to := range w.nodes {
		w.transmit(to, msg)
	}
}

// act carries out a machine's output for node n.
func (w *world) act(n *simNode, out Output) {
	for _, t := range out.Timers {
		w.push(w.now+t.After, n.idx, t.Timeout)
	}
	for _, msg := range out.Broadcast {
		if n.rep != nil {
			// Signed by the replica, which gave it to its machine already.
			w.keep(n, msg)
			n.signed = append(n.signed, msg)
			for to := range w.nodes {
				if to != n.idx {
					w.transmit(to, msg)
				}
			}
			continue
		}
		if n.byz == nil {
			signed := w.sign(msg)
			w.keep(n, signed)
			w.broadcast(signed)
			continue
		}
		for _, s := range n.byz.send(w, n, msg) {
			signed := w.sign(s.msg)
			w.keep(n, signed)
			for _, to := range s.to {
				w.transmit(to, signed)
			}
		}
	}
	if d := out.Decision; d != nil {
		n.decisions[d.Height] = *d
		w.keepAll(n, append([]Message{d.Proposal}, d.Commit...))
		if n.honest {
			w.sendDecision(n, *d)
		}
		if d.Height >= w.target {
			n.finished = true
			return
		}
		w.push(w.now, n.idx, NewHeight{Height: d.Height + 1, Value: valueOf(n.idx, d.Height+1, 0)})
	}
}

// keep records msg in n's store; it reports whether msg is new to n.
func (w *world) keep(n *simNode, msg Message) bool {
	k := string(msg.Sig)
	if n.seen[k] {
		return false
	}
	n.seen[k] = true
	n.byHeight[msg.Height] = append(n.byHeight[msg.Height], msg)
	return true
}

func (w *world) keepAll(n *simNode, msgs []Message) {
	for _, m := range msgs {
		w.keep(n, m)
	}
}

// step runs the next event; it returns false when the queue is empty.
func (w *world) step() bool {
	if len(w.queue) == 0 {
		return false
	}
	e := heap.Pop(&w.queue).(simEvent)
	w.now = e.at
	if e.gst {
		w.stabilise()
		return true
	}
	n := w.nodes[e.node]
	if r, ok := e.ev.(Receive); ok {
		n.received = append(n.received, r.Msg)
		fresh := w.keep(n, r.Msg)
		if n.honest {
			w.gossip(n, r.Msg, fresh)
		}
	}
	if n.rep == nil {
		w.act(n, n.m.Handle(e.ev))
		return true
	}
	out, err := n.rep.Handle(e.ev)
	if err != nil {
		w.err = err
		return false
	}
	w.act(n, out)
	return true
}

// sendDecision gives every other node the proposal and commit of d, as
// CometBFT's reactor gives a peer on a lower height the commit of it.
func (w *world) sendDecision(n *simNode, d Decision) {
	for to := range w.nodes {
		if to == n.idx {
			continue
		}
		w.transmit(to, d.Proposal)
		for _, c := range d.Commit {
			w.transmit(to, c)
		}
	}
}

// gossip is the honest validators' gossip layer, which the paper assumes
// ("a message a correct process receives reaches every correct process
// within delta after GST") and CometBFT's reactor provides: a decision's
// commit goes to everyone (sendDecision); a message signed by a Byzantine
// validator is relayed to everyone (an honest validator's own broadcast
// reaches everyone already); a validator seen
// behind (a message of a lower height, or of a lower round of this height)
// is sent the decision of its height and everything of this height, once
// per (validator, height, round) it is seen at.
func (w *world) gossip(n *simNode, msg Message, fresh bool) {
	if fresh && !w.nodes[msg.Validator].honest {
		for to := range w.nodes {
			if to != n.idx {
				w.transmit(to, msg)
			}
		}
	}
	h, r := n.m.Height(), n.m.Round()
	behind := msg.Height < h || (msg.Height == h && msg.Round < r)
	key := [3]int64{int64(msg.Validator), int64(msg.Height), int64(msg.Round)}
	if !behind || n.answered[key] || msg.Validator == n.idx {
		return
	}
	n.answered[key] = true
	if d, ok := n.decisions[msg.Height]; ok {
		w.transmit(msg.Validator, d.Proposal)
		for _, c := range d.Commit {
			w.transmit(msg.Validator, c)
		}
	}
	for _, m := range n.byHeight[h] {
		w.transmit(msg.Validator, m)
	}
}

// stabilise is GST: links stop losing messages, and every honest validator
// sends again everything it has of its current height and its last
// decision (what the gossip layer would have kept sending).
func (w *world) stabilise() {
	w.atGST = map[int][2]int64{}
	for _, n := range w.nodes {
		if !n.honest {
			continue
		}
		w.atGST[n.idx] = [2]int64{int64(n.m.Height()), int64(n.m.Round())}
		if d, ok := n.decisions[n.m.Height()-1]; ok {
			w.sendDecision(n, d)
		}
		for _, m := range n.byHeight[n.m.Height()] {
			for to := range w.nodes {
				if to != n.idx {
					w.transmit(to, m)
				}
			}
		}
	}
}
