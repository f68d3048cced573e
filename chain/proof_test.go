package chain_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
)

// proofEngine is chaintest's engine whose blocks need a proof: the bytes
// "final".
type proofEngine struct{ ct.Engine }

var _ chain.ProofVerifier = proofEngine{}

func (proofEngine) VerifyProof(_ chain.ChainReader, _ *chain.Header, proof []byte) error {
	if string(proof) != "final" {
		return chain.NewRuleError(chain.ErrBadProof, "proof %q", proof)
	}
	return nil
}

// TestBlockProof: a block's proof travels with it and is stored beside it
// (read back by hash) outside its hash; a block whose proof the engine
// refuses, or with a proof an engine takes none of, is refused without
// being marked invalid, so it imports when it comes again with a proof the
// engine takes.
func TestBlockProof(t *testing.T) {
	clk := ct.NewClock(ct.GenesisTime)
	a := openChain(t, ct.Engine{}, clk)
	blk := ct.Mine(t, a, clk, ct.Addr(0), nil, nil)
	b := openChain(t, proofEngine{}, clk)
	withProof := func(proof string) *chain.Block {
		p := *blk
		p.Proof = []byte(proof)
		return &p
	}
	if withProof("final").Hash() != blk.Hash() {
		t.Fatal("a proof changes the block's hash")
	}
	if err := relay(t, openChain(t, ct.Engine{}, clk), withProof("final")); !errors.Is(err, chain.ErrBadProof) {
		t.Fatalf("a proof to an engine without proofs: %v, want %v", err, chain.ErrBadProof)
	}
	for _, bad := range []string{"", "forged"} {
		if err := relay(t, b, withProof(bad)); !errors.Is(err, chain.ErrBadProof) {
			t.Fatalf("proof %q: %v, want %v", bad, err, chain.ErrBadProof)
		}
	}
	if err := relay(t, b, withProof("final")); err != nil {
		t.Fatalf("the block with its proof, after refused ones: %v", err)
	}
	got, err := b.BlockByHash(blk.Hash())
	if err != nil || !bytes.Equal(got.Proof, []byte("final")) {
		t.Fatalf("stored proof %q (%v), want %q", got.Proof, err, "final")
	}
}
