package pos

import (
	"github.com/ethereum/go-ethereum/core/types"
)

// The harness's votes: honest, Byzantine and twin validators' votes, and
// the honest nodes' slashers that record every vote they receive.

// observe shows an honest node's slasher the transactions it received,
// whatever its pool or chain then make of them, and has the node put
// evidence for every double or surround vote it proves into its pool and
// gossip, once per offender.
func (w *world) observe(n *simNode, txs ...*types.Transaction) {
	if w.byz[n.id] != 0 {
		return
	}
	for _, tx := range txs {
		ev, err := n.slasher.ObserveVote(HeadState{n.c}, tx)
		if err != nil {
			w.t.Fatalf("node %d: slasher: %v", n.id, err)
		}
		if ev == nil {
			continue
		}
		offender, _ := w.g.Sender(tx)
		if n.reported[offender] || offender == addr(n.id) || n.e.Slashed(HeadState{n.c}, offender) {
			continue
		}
		n.reported[offender] = true
		e := callTx(w.t, w.g, key(n.id), w.nextNonce(n.id, n), SlashingAddress, nil, ev.Encode())
		n.addTx(e)
		w.send(n.id, nil, e, 0, nil)
		w.stats.evidence++
	}
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
			tx := voteTx(w.t, w.g, key(i), w.nextNonce(i, view), v)
			w.votes[addr(i)] = append(w.votes[addr(i)], v)
			w.observe(view, tx)
			view.addTx(tx)
			g := w.group[view.id]
			w.sendFrom(view.id, g+1, nil, tx, 0, func(j int) bool { return w.group[j] == g })
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

// signVote signs v as validator i with the next nonce on view's head, adds
// it to view's and i's pools and sends it on.
func (w *world) signVote(i int, view *simNode, v Vote, to func(int) bool) {
	tx := voteTx(w.t, w.g, key(i), w.nextNonce(i, view), v)
	w.votes[addr(i)] = append(w.votes[addr(i)], v)
	w.observe(view, tx)
	view.addTx(tx)
	w.nodes[i].addTx(tx)
	w.send(i, nil, tx, 0, to)
}
