package bftchain

import (
	"errors"
	"fmt"

	"github.com/chaind/chaind/chain"
)

// A block of height 2 or more carries its parent's commit in its consensus
// body (CometBFT's LastCommit): the proof its proposer had of the parent.
// The body is under the header's ConsensusRoot, which SealHash keeps, so
// the LastCommit is part of the value voted on and the same on every node,
// and the chain itself holds every height's commit but the head's.

var _ chain.BodyTransition = (*Engine)(nil)

// BuildConsensus is the LastCommit of h: the proof of its parent, the head
// of the chain of the node's producer (none at height 1).
func (e *Engine) BuildConsensus(_ chain.ChainReader, _ *chain.State, h *chain.Header) ([]byte, error) {
	if h.Height < 2 {
		return nil, nil
	}
	c := e.chain.Load()
	if c == nil {
		return nil, errors.New("bftchain: only a producer builds blocks")
	}
	head := c.Head()
	if head.Hash() != h.ParentHash || len(head.Proof) == 0 {
		return nil, fmt.Errorf("bftchain: no commit of block %d's parent %x", h.Height, h.ParentHash)
	}
	return head.Proof, nil
}

// ApplyConsensus checks that body is a commit of h's parent; it changes no
// state. VerifyHeader sees that a block of height 2 or more has a body.
func (e *Engine) ApplyConsensus(c chain.ChainReader, _ *chain.State, h *chain.Header, body []byte) error {
	parent := c.GetHeader(h.ParentHash)
	if parent == nil {
		return fmt.Errorf("bftchain: parent %x of block %d not found", h.ParentHash, h.Height)
	}
	lc, err := DecodeCommit(body)
	if err == nil {
		err = lc.verify(e.chainID, e.vals, parent)
	}
	if err != nil {
		return chain.NewRuleError(chain.ErrConsensus, "last commit of block %d: %v", parent.Height, err)
	}
	return nil
}
