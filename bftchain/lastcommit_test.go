package bftchain

import (
	"bytes"
	"errors"
	"testing"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
)

// TestLastCommit: the block built on a committed head carries the head's
// proof as its consensus body; a block of height 2 without it, or with
// precommits of a non-validator, is refused.
func TestLastCommit(t *testing.T) {
	g, clk, e, c := devChain(t)
	e.chain.Store(c)
	commit := func(b *chain.Block) *chain.Block {
		t.Helper()
		committed, err := e.WithCommit(b, decide(t, e, t.TempDir(), b))
		if err != nil {
			t.Fatal(err)
		}
		return committed
	}
	clk.Advance(g.BlockTime.D())
	b1, err := c.BuildBlock(ct.Addr(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b1.Consensus) != 0 {
		t.Fatalf("block 1 carries a body of %d bytes, want none", len(b1.Consensus))
	}
	first := commit(b1)
	if err := c.InsertBlock(first); err != nil {
		t.Fatal(err)
	}
	clk.Advance(g.BlockTime.D())
	b2, err := c.BuildBlock(ct.Addr(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b2.Consensus, first.Proof) {
		t.Fatalf("block 2's body is %x, want block 1's commit %x", b2.Consensus, first.Proof)
	}
	forged := Commit{Sigs: []CommitSig{{Validator: 0, Sig: mustSign(t, bft.Message{Type: bft.TypePrecommit, Height: 1,
		Value: bft.Value(first.Header.SealHash()), ValidRound: bft.NoRound})}}}
	for name, body := range map[string][]byte{"no last commit": nil, "not a validator's": forged.Encode()} {
		h := *b2.Header
		h.ConsensusRoot = chain.ConsensusBodyRoot(body)
		bad := *b2
		bad.Header, bad.Consensus = &h, body
		if err := c.InsertBlock(commit(&bad)); !errors.Is(err, chain.ErrConsensus) {
			t.Errorf("%s: insert gives %v, want %v", name, err, chain.ErrConsensus)
		}
	}
	if err := c.InsertBlock(commit(b2)); err != nil {
		t.Fatalf("block 2 with block 1's commit: %v", err)
	}
}
