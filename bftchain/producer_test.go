package bftchain

import (
	"context"
	"log/slog"
	"math/big"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chaind/chaind/bft"
	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/core/types"
)

var discard = slog.New(slog.DiscardHandler)

func nilTxs() []*types.Transaction { return nil }

// heads returns a channel of c's new heads.
func heads(c *chain.Chain) <-chan *chain.Block {
	ch := make(chan *chain.Block, 16)
	c.Subscribe(func(ev chain.HeadEvent) { ch <- ev.Head })
	return ch
}

// TestProducerCommitsOnDemand: the only validator, told that a transaction
// waits, commits a block with it, and the block is final.
func TestProducerCommitsOnDemand(t *testing.T) {
	g, clk, e, c := devChain(t)
	clk.Advance(g.BlockTime.D())
	tx := ct.Transfer(g, 1, 0, ct.Addr(2), big.NewInt(1))
	pending := func() []*types.Transaction {
		if c.Head().Height() == 0 {
			return []*types.Transaction{tx}
		}
		return nil
	}
	p, err := NewProducer(ProducerConfig{Chain: c, Engine: e, Txs: pending, Key: ct.Key(0), Dir: t.TempDir(), Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	newHeads := heads(c)
	p.Start()
	p.NotifyTxs()
	b := <-newHeads
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if b.Height() != 1 || len(b.Txs) != 1 || b.Txs[0].Hash() != tx.Hash() {
		t.Fatalf("committed block %d with %d transactions, want block 1 with the transfer", b.Height(), len(b.Txs))
	}
	if fin, _, _ := c.Finality(); fin != b.Hash() {
		t.Fatalf("finalized %x, want the committed block %x", fin, b.Hash())
	}
}

// TestProducerRestartMidHeight: a validator that signed its proposal,
// prevote and precommit for a block and crashed before inserting it
// commits that same block after the restart, from its log and the block it
// kept, although the block it would build now differs; it signs nothing
// else at that height.
func TestProducerRestartMidHeight(t *testing.T) {
	g, clk, e, c := devChain(t)
	dir := t.TempDir()
	cfg := ProducerConfig{Chain: c, Engine: e, Txs: func() []*types.Transaction { return nil }, Key: ct.Key(0), Dir: dir, Clock: clk, Logger: slog.New(slog.DiscardHandler)}
	p, err := NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(g.BlockTime.D())
	b, err := c.BuildBlock(ct.Addr(0), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := bft.Value(b.Header.SealHash())
	if err := p.keepProposal(v, b); err != nil {
		t.Fatal(err)
	}
	if out, err := p.replica.Handle(bft.NewHeight{Height: 1, Value: v}); err != nil || out.Decision == nil {
		t.Fatalf("no decision before the crash: %v", err)
	}
	if err := p.replica.Close(); err != nil { // the crash: the block is not inserted
		t.Fatal(err)
	}
	clk.Advance(g.BlockTime.D()) // a block built now would have another time

	newHeads := heads(c)
	p, err = NewProducer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	got := <-newHeads
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if got.Height() != 1 || bft.Value(got.Header.SealHash()) != v {
		t.Fatalf("after the restart block %d of value %x was committed, want block 1 of %x", got.Height(), got.Header.SealHash(), v[:])
	}
	signer, err := bft.OpenSafeSigner(e.chainID, KeySigner{ct.Key(0)}, filepath.Join(dir, "last_signed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if last := signer.Last(); last.Height != 1 {
		t.Fatalf("last signed at height %d, want 1", last.Height)
	}
}

// TestProducerPeriod: without transactions, the producer starts a height a
// Period after the head, on its clock: one empty block per Period.
func TestProducerPeriod(t *testing.T) {
	g, clk, e, c := devChain(t)
	p, err := NewProducer(ProducerConfig{Chain: c, Engine: e, Txs: func() []*types.Transaction { return nil }, Key: ct.Key(0), Dir: t.TempDir(),
		Clock: clk, Logger: slog.New(slog.DiscardHandler), Period: g.BlockTime.D()})
	if err != nil {
		t.Fatal(err)
	}
	newHeads := heads(c)
	p.Start()
	defer p.Close()
	for i := uint64(1); i <= 3; i++ {
		want := time.UnixMilli(int64(c.Head().Header.Time)).Add(g.BlockTime.D())
		waitForTimer(t, clk, want)
		clk.AdvanceTo(want)
		b := <-newHeads
		if b.Height() != i || len(b.Txs) != 0 || b.Header.Time != uint64(want.UnixMilli()) {
			t.Fatalf("block %d at %d, want block %d at %d", b.Height(), b.Header.Time, i, want.UnixMilli())
		}
	}
}

// waitForTimer returns once the only timer armed on clk is due at want.
func waitForTimer(t *testing.T, clk *clock.Sim, want time.Time) {
	t.Helper()
	for {
		if err := clk.BlockUntil(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		if next, ok := clk.Next(); ok && next.Equal(want) && clk.Pending() == 1 {
			return
		}
		runtime.Gosched()
	}
}
