package pos

import (
	"github.com/chaind/chaind/chain"
)

// The harness's votes: honest, Byzantine and twin validators' votes, and
// the honest nodes' slashers that record every vote they receive.

// receiveVote is sv reaching n on the vote channel: n's slasher records
// it, and its pool and fork choice take it if it can be of use.
func (w *world) receiveVote(n *simNode, sv SignedVote) {
	w.observe(n, sv)
	if _, err := (Messages{Chain: n.c, Engine: n.e}).Vote(sv); err != nil {
		w.t.Fatalf("%v: node %d: vote refused: %v", w, n.id, err)
	}
}

// observeBlock shows n the consensus body of a block it received, as a
// node's p2p shows its validator: its slasher records the votes, and the
// evidence goes into its pool (ObserveBlock).
func (w *world) observeBlock(n *simNode, b *chain.Block) {
	if w.byz[n.id] != 0 {
		return
	}
	body, err := DecodeBody(b.Consensus)
	if err != nil {
		return
	}
	for _, sv := range body.Votes {
		w.observe(n, sv)
	}
	for _, ev := range body.Evidence {
		w.report(n, ev)
	}
}

// observe shows an honest node's slasher a vote it received, whatever its
// pool or chain then make of it, and has the node report the evidence of
// every double or surround vote it proves.
func (w *world) observe(n *simNode, sv SignedVote) {
	if w.byz[n.id] != 0 {
		return
	}
	ev, err := n.slasher.ObserveVote(HeadState{n.c}, sv)
	if err != nil {
		w.t.Fatalf("%v: node %d: slasher: %v", w, n.id, err)
	}
	if ev != nil {
		w.report(n, *ev)
	}
}

// report has honest node n pool ev and gossip it, once per offender, unless
// it is n's own offence or n's head state slashed the offender already.
func (w *world) report(n *simNode, ev Evidence) {
	offender, err := n.e.checkEvidence(&ev)
	if err != nil || offender == addr(n.id) {
		return
	}
	if _, added, err := n.e.AddEvidence(HeadState{n.c}, ev); err != nil || !added {
		return
	}
	w.send(n.id, message{evidence: &ev}, 0, nil)
	w.stats.evidence++
}

// vote has every online validator vote in the middle of the epoch. Honest
// ones vote once per target epoch from the head's justified checkpoint and
// never from a source older than one they used; Byzantine ones also sign
// double and surround votes.
func (w *world) vote(s uint64) {
	epoch := w.nodes[0].e.Epoch(s)
	for i, n := range w.nodes {
		if w.offline[i] {
			continue
		}
		st := HeadState{n.c}
		target, ok := n.e.checkpoint(st, epoch)
		src := n.e.justified(st)
		byz := w.byz[i]
		if byz&bSurround != 0 && epoch >= 2 && w.rng.IntN(2) == 0 && ok {
			// From genesis: it surrounds any earlier vote of a later source.
			w.signVote(i, n, Vote{Source: Checkpoint{Hash: n.e.genesisHash}, Target: Checkpoint{Epoch: epoch, Hash: target}}, nil)
			w.stats.surrounds++
			continue
		}
		if byz&bDoubleVote != 0 {
			w.voteEveryView(i, epoch)
			continue
		}
		if !ok || epoch <= n.lastTgt || src.Epoch < n.lastSrc || epoch == 0 {
			continue
		}
		n.lastSrc, n.lastTgt = src.Epoch, epoch
		w.signVote(i, n, Vote{Source: src, Target: Checkpoint{Epoch: epoch, Hash: target}, Head: n.c.Head().Hash()}, nil)
	}
}

// twinVotes: during a partition, the copy of each twin validator on the
// side its own node is not on votes as an honest validator would, from the
// view of a node there (with its own memory of the votes it cast), and
// its votes stay on that side until the heal.
func (w *world) twinVotes(epoch uint64) {
	for i := range w.nodes {
		if w.byz[i] != bTwin || w.offline[i] {
			continue
		}
		for _, view := range w.nodes {
			if w.group[view.id] == w.group[i] {
				continue
			}
			st := HeadState{view.c}
			target, ok := view.e.checkpoint(st, epoch)
			src := view.e.justified(st)
			last := w.twinLast[i]
			if !ok || epoch <= last[1] || src.Epoch < last[0] {
				break
			}
			w.twinLast[i] = [2]uint64{src.Epoch, epoch}
			v := Vote{Source: src, Target: Checkpoint{Epoch: epoch, Hash: target}, Head: view.c.Head().Hash()}
			sv := signedVote(w.t, w.g, key(i), v)
			w.votes[addr(i)] = append(w.votes[addr(i)], v)
			w.receiveVote(view, sv)
			g := w.group[view.id]
			w.sendFrom(view.id, g+1, message{vote: &sv}, 0, func(j int) bool { return w.group[j] == g })
			break
		}
	}
}

// voteEveryView: validator i votes in each view's terms, sending each vote
// to the nodes that share that view's partition group.
func (w *world) voteEveryView(i int, epoch uint64) {
	done := map[Vote]bool{}
	for _, v := range w.nodes {
		st := HeadState{v.c}
		target, ok := v.e.checkpoint(st, epoch)
		vote := Vote{Source: v.e.justified(st), Target: Checkpoint{Epoch: epoch, Hash: target}, Head: v.c.Head().Hash()}
		if !ok || done[vote] || vote.Target.Epoch <= vote.Source.Epoch {
			continue
		}
		done[vote] = true
		group := w.group[v.id]
		w.signVote(i, v, vote, func(j int) bool { return w.group[j] == group })
	}
	if len(done) > 1 {
		w.stats.doubleVotes++
	}
}

// signVote signs v as validator i, hands it to view and to i's own node
// and sends it on.
func (w *world) signVote(i int, view *simNode, v Vote, to func(int) bool) {
	sv := signedVote(w.t, w.g, key(i), v)
	w.votes[addr(i)] = append(w.votes[addr(i)], v)
	w.receiveVote(view, sv)
	if view.id != i {
		w.receiveVote(w.nodes[i], sv)
	}
	w.send(i, message{vote: &sv}, 0, to)
}
