package pos

import (
	"github.com/chaind/chaind/chain"
)

// Messages receives a node's consensus messages from its peers (p2p's
// channels VoteCode and EvidenceCode, or a simulated network): it checks
// each against the head state, pools what is of use and reports whether to
// pass it on. Node and simulation wire their transport to it.
type Messages struct {
	Chain  *chain.Chain // required
	Engine *Engine      // required
	// Validator (optional) has its slasher record every vote with a good
	// signature, pooled or not, and report the offences it proves.
	Validator *Validator
}

// Per-peer budgets of the channels: a validator votes once an epoch, so
// a peer relaying every validator's vote of a busy network stays well
// within them; what a peer sends beyond is dropped unread.
const (
	VoteRate      = 500 // votes a second
	VoteBurst     = 4096
	EvidenceRate  = 10
	EvidenceBurst = 64
)

// DecodeVoteMsg is the vote channel's stateless check.
func DecodeVoteMsg(payload []byte) (any, error) { return DecodeSignedVote(payload) }

// DecodeEvidenceMsg is the evidence channel's stateless check.
func DecodeEvidenceMsg(payload []byte) (any, error) { return DecodeEvidence(payload) }

// Vote handles a vote from a peer. The error is a signature that is not
// its validator's on this chain (the peer's fault). Otherwise the slasher
// sees it, and it is pooled and shown to the fork choice if it can be of
// use: relay reports whether it was, and so should be passed on.
func (m Messages) Vote(sv SignedVote) (relay bool, err error) {
	if err := m.Engine.VerifyVote(sv); err != nil {
		return false, err
	}
	if m.Validator != nil {
		m.Validator.ObserveVote(sv)
	}
	if !m.Engine.addVerifiedVote(HeadState{m.Chain}, sv) {
		return false, nil
	}
	ObserveVotes(m.Chain.ForkChoice(), []SignedVote{sv})
	return true, nil
}

// Evidence handles evidence from a peer. The error is evidence that
// proves nothing (the peer's fault); relay reports whether it was pooled
// (against a validator the head state has not slashed, the first against
// it), and so should be passed on.
func (m Messages) Evidence(ev Evidence) (relay bool, err error) {
	_, added, err := m.Engine.AddEvidence(HeadState{m.Chain}, ev)
	return added, err
}
