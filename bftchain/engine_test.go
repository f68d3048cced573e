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
	return testChain(t, 1)
}

// testChain is a BFT chain whose n validators, of equal stake, are
// ct.Key(0) to ct.Key(n-1), as devChain.
func testChain(t *testing.T, n int) (*chain.Genesis, *clock.Sim, *Engine, *chain.Chain) {
	t.Helper()
	cfg := &GenesisConfig{}
	for i := range n {
		cfg.Validators = append(cfg.Validators, GenesisValidator{Address: ct.Addr(i), Stake: chain.NewBigInt(ct.Ether(32))})
	}
	g := &chain.Genesis{ChainID: 1337, Consensus: Name, Timestamp: uint64(ct.GenesisTime.UnixMilli()),
		Alloc:  chain.Alloc{ct.Addr(1): {Balance: chain.NewBigInt(ct.Ether(1000))}},
		Engine: cfg}
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

// TestBlockWithoutCommitRefused: a block without a commit, with the commit
// of another block, or with a precommit signed by a non-validator is
// refused, and does not stop the block coming again with its commit; a
// header with a seal is refused.
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
	for name, edit := range map[string]func(b *chain.Block){
		"no commit":              func(b *chain.Block) { b.Proof = nil },
		"another block's commit": func(b *chain.Block) { b.Header.Time = other.Time },
		"not a validator's":      func(b *chain.Block) { b.Proof = forged.Encode() },
		"a seal":                 func(b *chain.Block) { b.Header.Seal = sealed.Proof },
	} {
		h := *sealed.Header
		bad := *sealed
		bad.Header = &h
		edit(&bad)
		want := chain.ErrBadProof
		if name == "a seal" {
			want = chain.ErrConsensus
		}
		if err := c.InsertBlock(&bad); !errors.Is(err, want) {
			t.Errorf("%s: insert gives %v, want %v", name, err, want)
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

// TestBlockHashIndependentOfPrecommits: two validators that decide one
// value from two different quorums of precommits (validators 0, 1, 2 and
// 1, 2, 3 of four) insert one block, whose hash is the proposed block's;
// each one's commit is a valid proof of it. With the commit in the seal
// the two blocks' hashes differed.
func TestBlockHashIndependentOfPrecommits(t *testing.T) {
	g, clk, e, c := testChain(t, 4)
	clk.Advance(g.BlockTime.D())
	b, err := c.BuildBlock(ct.Addr(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	value := bft.Value(b.Header.SealHash())
	decision := func(signers ...int) *bft.Decision {
		d := &bft.Decision{Height: 1, Round: 0, Value: value}
		for _, i := range signers {
			m := bft.Message{Type: bft.TypePrecommit, Height: 1, Round: 0, Value: value, ValidRound: bft.NoRound, Validator: i}
			sig, err := KeySigner{ct.Key(i)}.Sign(m.SignBytes("1337"))
			if err != nil {
				t.Fatal(err)
			}
			m.Sig = sig
			d.Commit = append(d.Commit, m)
		}
		return d
	}
	first, err := e.WithCommit(b, decision(0, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.WithCommit(b, decision(1, 2, 3))
	if err != nil {
		t.Fatal(err)
	}
	if first.Hash() != b.Hash() || second.Hash() != b.Hash() {
		t.Fatalf("blocks %x and %x from two quorums of precommits, want both the proposed block %x", first.Hash(), second.Hash(), b.Hash())
	}
	if string(first.Proof) == string(second.Proof) {
		t.Fatal("two quorums of precommits give one commit")
	}
	for _, committed := range []*chain.Block{first, second} {
		if err := e.VerifyProof(c, committed.Header, committed.Proof); err != nil {
			t.Errorf("commit refused: %v", err)
		}
	}
	if err := c.InsertBlock(first); err != nil {
		t.Fatal(err)
	}
	if err := c.InsertBlock(second); !errors.Is(err, chain.ErrKnownBlock) {
		t.Fatalf("the block with the other commit: %v, want it known", err)
	}
}
