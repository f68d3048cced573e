package bftchain

import (
	"errors"
	"log/slog"
	"math/big"
	"testing"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/core/types"
)

// devChain is a BFT chain whose one validator is ct.Key(0), funded with
// ct.Key(1), on an in-memory store and a simulated clock.
func devChain(t *testing.T) (*chain.Genesis, *clock.Sim, *Engine, *chain.Chain) {
	t.Helper()
	g := &chain.Genesis{ChainID: 1337, Consensus: Name, Timestamp: uint64(ct.GenesisTime.UnixMilli()),
		Alloc:  chain.Alloc{ct.Addr(1): {Balance: chain.NewBigInt(ct.Ether(1000))}},
		Engine: &GenesisConfig{Validators: []GenesisValidator{{Address: ct.Addr(0), Stake: chain.NewBigInt(ct.Ether(32))}}}}
	g.FillDefaults()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	clk := ct.NewClock(ct.GenesisTime)
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: e, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return g, clk, e, c
}

// decide runs a replica of the one validator in dir through height
// b.Height() on b and returns its decision, as the producer does.
func decide(t *testing.T, e *Engine, dir string, b *chain.Block) *bft.Decision {
	t.Helper()
	r, _, err := bft.OpenReplica(e.Config(0), dir, KeySigner{ct.Key(0)}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out, err := r.Handle(bft.NewHeight{Height: bft.Height(b.Height()), Value: bft.Value(b.Header.SealHash())})
	if err != nil || out.Decision == nil {
		t.Fatalf("the only validator decides nothing: %v", err)
	}
	return out.Decision
}

// TestCommittedBlockFinal: a block sealed with the commit of its decision
// is taken, and is at once the finalized and safe block.
func TestCommittedBlockFinal(t *testing.T) {
	g, clk, e, c := devChain(t)
	clk.Advance(g.BlockTime.D())
	tx := ct.Transfer(g, 1, 0, ct.Addr(2), big.NewInt(1))
	b, err := c.BuildBlock(ct.Addr(0), []*types.Transaction{tx})
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := e.WithCommit(b, decide(t, e, t.TempDir(), b))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.InsertBlock(sealed); err != nil {
		t.Fatal(err)
	}
	fin, safe, ok := c.Finality()
	if !ok || fin != sealed.Hash() || safe != sealed.Hash() || c.Head().Hash() != sealed.Hash() {
		t.Fatalf("finalized %x, safe %x, head %x: want the committed block %x", fin, safe, c.Head().Hash(), sealed.Hash())
	}
}

// TestBlockWithoutCommitRefused: a header without a seal, with the commit
// of another block, or with a precommit signed by a non-validator is
// refused.
func TestBlockWithoutCommitRefused(t *testing.T) {
	g, clk, e, c := devChain(t)
	clk.Advance(g.BlockTime.D())
	b, err := c.BuildBlock(ct.Addr(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	d := decide(t, e, t.TempDir(), b)
	sealed, err := e.WithCommit(b, d)
	if err != nil {
		t.Fatal(err)
	}
	other := *b.Header
	other.Time++
	forged := Commit{Round: d.Round, Sigs: []CommitSig{{Validator: 0, Sig: mustSign(t, bft.Message{Type: bft.TypePrecommit, Height: 1,
		Round: d.Round, Value: bft.Value(b.Header.SealHash()), ValidRound: bft.NoRound})}}}
	for name, edit := range map[string]func(h *chain.Header){
		"no seal":                func(h *chain.Header) { h.Seal = nil },
		"another block's commit": func(h *chain.Header) { h.Time = other.Time },
		"not a validator's":      func(h *chain.Header) { h.Seal = forged.Encode() },
	} {
		h := *sealed.Header
		edit(&h)
		bad := *sealed
		bad.Header = &h
		if err := c.InsertBlock(&bad); !errors.Is(err, chain.ErrBadSeal) {
			t.Errorf("%s: insert gives %v, want %v", name, err, chain.ErrBadSeal)
		}
	}
	if err := c.InsertBlock(sealed); err != nil {
		t.Fatalf("the committed block after the refused ones: %v", err)
	}
}

// mustSign signs m as ct.Key(5), which is no validator, under index 0.
func mustSign(t *testing.T, m bft.Message) []byte {
	sig, err := KeySigner{ct.Key(5)}.Sign(m.SignBytes("1337"))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
