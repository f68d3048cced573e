package pos

import (
	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// The validator's reports: the evidence it finds (its slasher's, its scan
// of stored blocks) or sees (in others' transactions), sent once per
// offender from its first key's account.

// reportVotes hands the votes seen since the last call to the slasher and
// sends evidence for each double or surround vote it proves, and sends
// again, from its own account, the evidence seen in others' transactions
// (once per offender). Evidence made on another branch (the other side of
// a healed partition, whose blocks this node refuses) is a transaction
// whose nonce fits that branch only: sent again, it is included here too.
func (v *Validator) reportVotes() {
	v.mu.Lock()
	txs := v.observed
	v.observed = nil
	v.mu.Unlock()
	e, st := v.cfg.Engine, HeadState{v.cfg.Chain}
	for _, tx := range txs {
		offender, ev, err := v.evidenceIn(st, tx)
		if err != nil {
			v.log.Error("Slasher failed", "err", err)
			return
		}
		if ev == nil {
			continue
		}
		if v.reported[offender] || v.keyOf(offender) != nil || e.Slashed(st, offender) {
			continue
		}
		if err := v.submit(v.keys[0], SlashingAddress, ev.Encode()); err != nil {
			v.log.Warn("Evidence refused by the mempool", "offender", offender, "err", err)
			continue
		}
		v.reported[offender] = true
		v.log.Warn("Reported an offence", "offender", offender, "kind", ev.Kind)
	}
}

// evidenceIn is the evidence that tx, a vote or a slashing call, gives
// against its offender: the slasher's, for a vote that conflicts with one
// recorded; the call's own, if it proves an offence. The error is the
// slasher's failure.
func (v *Validator) evidenceIn(st HeadState, tx *types.Transaction) (common.Address, *Evidence, error) {
	e := v.cfg.Engine
	if *tx.To() == FinalityAddress {
		ev, err := v.cfg.Slasher.ObserveVote(st, tx)
		if ev == nil || err != nil {
			return common.Address{}, nil, err
		}
		offender, _ := e.g.Sender(tx)
		return offender, ev, nil
	}
	offender, err := e.checkEvidence(tx.Data())
	if err != nil {
		return common.Address{}, nil, nil
	}
	ev := new(Evidence)
	if rlp.DecodeBytes(tx.Data(), ev) != nil {
		return common.Address{}, nil, nil
	}
	return offender, ev, nil
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
		v.reportProposal(h.Coinbase, h.Nonce, &Evidence{Kind: DoubleProposal, A: a, B: b})
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
		var h chain.Header
		if h.UnmarshalBinary(ev.B) == nil {
			v.reportProposal(h.Coinbase, h.Nonce, ev)
		}
	}
}

// reportProposal sends ev, evidence that offender proposed twice in slot,
// unless offender is one of our keys, is slashed already or was reported.
func (v *Validator) reportProposal(offender common.Address, slot uint64, ev *Evidence) {
	if v.reported[offender] || v.keyOf(offender) != nil || v.cfg.Engine.Slashed(HeadState{v.cfg.Chain}, offender) {
		return
	}
	if err := v.submit(v.keys[0], SlashingAddress, ev.Encode()); err != nil {
		v.log.Warn("Evidence refused by the mempool", "offender", offender, "err", err)
		return
	}
	v.reported[offender] = true
	v.log.Warn("Reported a double proposal", "offender", offender, "slot", slot)
}
