package pos

import (
	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// The validator's reports: the evidence it finds (its slasher's, its scan
// of stored blocks) or sees (in blocks' bodies, on any branch) goes into
// the engine's evidence pool, from which its proposals include it, and
// out to its peers on the evidence channel. The pool takes one piece of
// evidence per offender.

// reportVotes hands the votes seen since the last call to the slasher and
// reports the evidence of each double or surround vote it proves.
func (v *Validator) reportVotes() {
	v.mu.Lock()
	votes := v.observed
	v.observed = nil
	v.mu.Unlock()
	st := HeadState{v.cfg.Chain}
	for _, sv := range votes {
		ev, err := v.cfg.Slasher.ObserveVote(st, sv)
		if err != nil {
			v.log.Error("Slasher failed", "err", err)
			return
		}
		if ev != nil {
			v.report(*ev)
		}
	}
}

// report pools and gossips ev unless it proves nothing, or its offender is
// one of our own keys, is not a validator of the head state or is slashed
// there, or was reported.
func (v *Validator) report(ev Evidence) {
	e := v.cfg.Engine
	offender, err := e.checkEvidence(&ev)
	if err != nil || v.keyOf(offender) != nil {
		return
	}
	if _, added, _ := e.AddEvidence(HeadState{v.cfg.Chain}, ev); !added {
		return
	}
	if v.cfg.Gossip != nil {
		v.cfg.Gossip(EvidenceCode, ev.Encode())
	}
	v.log.Warn("Reported an offence", "offender", offender, "kind", ev.Kind)
}

// reportDoubleProposals looks for two blocks of one proposer for one slot
// among the recent blocks this node stored, and sends the evidence (once per
// offender) so that the offender is slashed. It scans the last two epochs'
// heights once an epoch and the last recentHeights heights at every other
// slot: a twin made in the slot shows at once, one released late within an
// epoch, and a slot's duties cost O(1) reads rather than O(epoch).
func (v *Validator) reportDoubleProposals(epoch uint64) {
	c, e := v.cfg.Chain, v.cfg.Engine
	head := c.Head().Height()
	window := min(head, recentHeights)
	if v.fullScan != epoch+1 {
		v.fullScan = epoch + 1
		window = min(head, 2*e.cfg.EpochLength)
	}
	var headers []*chain.Header
	for height := head - window; height <= head; height++ {
		hs, err := c.HeadersAt(height)
		if err != nil {
			return
		}
		headers = append(headers, hs...)
	}
	type key struct {
		slot     uint64
		proposer common.Address
	}
	seen := make(map[key]*chain.Header)
	for _, h := range headers {
		k := key{h.Nonce, h.Coinbase}
		first, dup := seen[k]
		if !dup {
			seen[k] = h
			continue
		}
		if first.SealHash() == h.SealHash() {
			continue
		}
		a, _ := first.MarshalBinary()
		b, _ := h.MarshalBinary()
		v.report(Evidence{Kind: DoubleProposal, A: a, B: b})
	}
}

// reportSlasherProofs reports the double proposals the slasher found
// among the headers the node received.
func (v *Validator) reportSlasherProofs() {
	v.mu.Lock()
	proofs := v.proofs
	v.proofs = nil
	v.mu.Unlock()
	for _, ev := range proofs {
		v.report(*ev)
	}
}
