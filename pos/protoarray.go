package pos

import (
	"bytes"

	"github.com/ethereum/go-ethereum/common"
)

// protoArray is the block tree of fork choice as Prysm and Lighthouse keep
// it: nodes in insertion order, so that every parent comes before its
// children. Each node holds the weight of the votes for it and its
// descendants, its best child and its best descendant (the leaf that
// LMD-GHOST reaches from it). Votes change the tree through deltas: one
// backward pass adds each node's delta to its parent's and another
// recomputes the best children, so an update costs O(nodes) and reading the
// head from any node costs O(1), where walking the tree from the justified
// checkpoint and summing the votes under each child would cost
// O(nodes x validators).
type protoArray struct {
	nodes []protoNode
	index map[common.Hash]int
	// justified is the store's justified epoch: a block whose own state
	// is known to justify less is no head (viable).
	justified uint64
}

type protoNode struct {
	hash           common.Hash
	parent         int // -1 for the root
	slot           uint64
	weight         int64 // stake voting for it and its descendants
	bestChild      int   // -1 for none
	bestDescendant int   // -1 for none: the node is its own best descendant
	invalid        bool
	hasChild       bool // a valid child: the node is no leaf
	// justified is the justified epoch of the block's own state, -1 while
	// the block was never a head (the fork choice does not execute side
	// branches).
	justified int64
}

func newProtoArray(root common.Hash, slot uint64) *protoArray {
	p := &protoArray{index: make(map[common.Hash]int)}
	p.nodes = append(p.nodes, protoNode{hash: root, parent: -1, slot: slot, bestChild: -1, bestDescendant: -1, justified: -1})
	p.index[root] = 0
	return p
}

// add inserts a block whose parent is known; false if it is not, or if the
// block is known already. Its best children are up to date again after the
// next applyDeltas.
func (p *protoArray) add(hash, parent common.Hash, slot uint64) bool {
	if _, ok := p.index[hash]; ok {
		return false
	}
	pi, ok := p.index[parent]
	if !ok {
		return false
	}
	i := len(p.nodes)
	p.nodes = append(p.nodes, protoNode{hash: hash, parent: pi, slot: slot, bestChild: -1, bestDescendant: -1, invalid: p.nodes[pi].invalid, justified: -1})
	p.index[hash] = i
	return true
}

// markInvalid excludes the block and, through the order of the nodes, every
// descendant.
func (p *protoArray) markInvalid(hash common.Hash) {
	i, ok := p.index[hash]
	if !ok {
		return
	}
	p.nodes[i].invalid = true
	for j := i + 1; j < len(p.nodes); j++ {
		if par := p.nodes[j].parent; par >= 0 && p.nodes[par].invalid {
			p.nodes[j].invalid = true
		}
	}
	p.applyDeltas(make([]int64, len(p.nodes)))
}

// applyDeltas adds deltas (one per node) to the weights and recomputes the
// best children and descendants.
func (p *protoArray) applyDeltas(deltas []int64) {
	for i := len(p.nodes) - 1; i >= 0; i-- {
		p.nodes[i].weight += deltas[i]
		if par := p.nodes[i].parent; par >= 0 {
			deltas[par] += deltas[i]
		}
	}
	for i := range p.nodes {
		p.nodes[i].bestChild, p.nodes[i].bestDescendant, p.nodes[i].hasChild = -1, -1, false
	}
	for i := len(p.nodes) - 1; i > 0; i-- {
		if par := p.nodes[i].parent; par >= 0 {
			p.nodes[par].hasChild = p.nodes[par].hasChild || !p.nodes[i].invalid
			p.updateBest(par, i)
		}
	}
}

// setJustified records the justified epoch of hash's own state.
func (p *protoArray) setJustified(hash common.Hash, epoch uint64) {
	if i, ok := p.index[hash]; ok {
		p.nodes[i].justified = int64(epoch)
	}
}

// viable reports whether node i may be the head: valid, and not known to
// justify less than the store (the consensus specs' filter_block_tree, for
// the blocks whose state the node has seen).
func (p *protoArray) viable(i int) bool {
	n := &p.nodes[i]
	return !n.invalid && (n.justified < 0 || uint64(n.justified) >= p.justified)
}

// leadsToViable reports whether i's best descendant is viable, or i is a
// viable leaf: as in the specs, only leaves are judged, so a block whose
// every branch is ruled out is no head either.
func (p *protoArray) leadsToViable(i int) bool {
	if d := p.nodes[i].bestDescendant; d >= 0 {
		return p.viable(d)
	}
	return !p.nodes[i].hasChild && p.viable(i)
}

// updateBest makes child the best child of parent if it leads to a viable
// head and is heavier than the current one (ties go to the higher hash, as
// in the consensus specs), and propagates nothing further: callers go from
// the leaves up.
func (p *protoArray) updateBest(parent, child int) {
	c := &p.nodes[child]
	if c.invalid || !p.leadsToViable(child) {
		return
	}
	n := &p.nodes[parent]
	if n.bestChild >= 0 && n.bestChild != child {
		b := &p.nodes[n.bestChild]
		if b.weight > c.weight || (b.weight == c.weight && bytes.Compare(b.hash[:], c.hash[:]) > 0) {
			return
		}
	}
	n.bestChild = child
	n.bestDescendant = child
	if c.bestDescendant >= 0 {
		n.bestDescendant = c.bestDescendant
	}
}

// head is the best descendant of root (root itself when it has no viable
// child); false if root is unknown.
func (p *protoArray) head(root common.Hash) (common.Hash, bool) {
	i, ok := p.index[root]
	if !ok || p.nodes[i].invalid {
		return common.Hash{}, false
	}
	if d := p.nodes[i].bestDescendant; d >= 0 {
		return p.nodes[d].hash, true
	}
	return p.nodes[i].hash, true
}

// descends reports whether a is b or one of its descendants.
func (p *protoArray) descends(a, b common.Hash) bool {
	i, ok := p.index[a]
	j, okB := p.index[b]
	if !ok || !okB {
		return false
	}
	for i > j {
		i = p.nodes[i].parent
	}
	return i == j
}

// prune drops every node that does not descend from root (root included
// and kept); nothing when root is unknown or fewer than minPrune nodes
// would go.
func (p *protoArray) prune(root common.Hash, minPrune int) {
	ri, ok := p.index[root]
	if !ok || ri < minPrune {
		return
	}
	keep := make([]int, len(p.nodes)) // new index + 1, 0 for dropped
	var nodes []protoNode
	for i := ri; i < len(p.nodes); i++ {
		n := p.nodes[i]
		switch {
		case i == ri:
			n.parent = -1
		case n.parent < ri || keep[n.parent] == 0:
			continue
		default:
			n.parent = keep[n.parent] - 1
		}
		keep[i] = len(nodes) + 1
		nodes = append(nodes, n)
	}
	p.nodes = nodes
	clear(p.index)
	for i := range p.nodes {
		p.index[p.nodes[i].hash] = i
	}
	p.applyDeltas(make([]int64, len(p.nodes)))
}
