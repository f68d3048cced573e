package node

import (
	"path/filepath"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/pos"
)

// SlasherDir is the slasher's database inside a data directory.
func SlasherDir(dataDir string) string { return filepath.Join(dataDir, pos.SlasherDir) }

// seenHeader is p2p's SeenHeader: the validator's slasher (with a validator
// key) sees every header a peer sends, before the chain decides on its
// block, so that a block refused for reverting the finalized checkpoint,
// or waiting for its parent, is still looked at. The validator is set
// before p2p starts.
func (n *Node) seenHeader(h *chain.Header) {
	if n.validator != nil {
		n.validator.ObserveHeader(h)
	}
}

// seenBlock is p2p's SeenBlock: the validator's slasher sees the votes in
// the consensus body of every block a peer sends, and its evidence pool
// the evidence, whatever the chain then makes of the block (one from the
// other side of a healed partition may revert this side's finalized
// checkpoint).
func (n *Node) seenBlock(b *chain.Block) {
	if n.validator != nil {
		n.validator.ObserveBlock(b)
	}
}

// consensusChannels are the PoS consensus messages' p2p channels: votes
// and evidence, checked (pos.Messages) and passed on to the other peers
// when they were of use. A vote or evidence that does not verify costs
// its sender the connection; what a peer sends beyond the channel's
// budget is dropped unread.
func (n *Node) consensusChannels(c *chain.Chain, e *pos.Engine) []p2p.Channel {
	msgs := func() pos.Messages { return pos.Messages{Chain: c, Engine: e, Validator: n.validator} }
	relay := n.relay
	return []p2p.Channel{{
		Code: pos.VoteCode, Name: "pos-votes", MaxSize: pos.MaxVoteSize, Rate: pos.VoteRate, Burst: pos.VoteBurst,
		Decode: pos.DecodeVoteMsg,
		Handle: func(peer string, m any) error {
			sv := m.(pos.SignedVote)
			ok, err := msgs().Vote(sv)
			if ok {
				relay(pos.VoteCode, sv.Encode(), peer)
			}
			return err
		},
		Connected: func(peer string) {
			votes, evidence := e.Pooled()
			for _, sv := range votes {
				n.sendTo(peer, pos.VoteCode, sv.Encode())
			}
			for _, ev := range evidence {
				n.sendTo(peer, pos.EvidenceCode, ev.Encode())
			}
		},
	}, {
		Code: pos.EvidenceCode, Name: "pos-evidence", MaxSize: pos.MaxEvidenceSize, Rate: pos.EvidenceRate, Burst: pos.EvidenceBurst,
		Decode: pos.DecodeEvidenceMsg,
		Handle: func(peer string, m any) error {
			ev := m.(pos.Evidence)
			ok, err := msgs().Evidence(ev)
			if ok {
				relay(pos.EvidenceCode, ev.Encode(), peer)
			}
			return err
		},
	}}
}
