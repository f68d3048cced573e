package chain_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// bodyEngine is chaintest's engine with a consensus body: a block built
// carries the bytes in next, and applying a body appends it to one engine
// record, so the state shows every body applied. A body starting with 0xff
// is refused.
type bodyEngine struct {
	ct.Engine
	next []byte
}

var (
	_ chain.BodyTransition = (*bodyEngine)(nil)

	bodiesKey   = common.HexToHash("0xb0d1e5")
	errBadBody  = chain.ErrorKind("test body refused")
	refusedBody = []byte{0xff, 1}
)

func (e *bodyEngine) BuildConsensus(chain.ChainReader, *chain.State, *chain.Header) ([]byte, error) {
	return e.next, nil
}

func (e *bodyEngine) ApplyConsensus(_ chain.ChainReader, st *chain.State, _ *chain.Header, body []byte) error {
	if body[0] == 0xff {
		return chain.NewRuleError(errBadBody, "body %x", body)
	}
	st.SetRecord(bodiesKey, append(bytes.Clone(st.Record(bodiesKey)), body...))
	return nil
}

func openChain(t *testing.T, e chain.Engine, clk *clock.Sim) *chain.Chain {
	t.Helper()
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: ct.Genesis(1), Engine: e, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// relay sends b to c as a peer would: encoded and decoded.
func relay(t *testing.T, c *chain.Chain, b *chain.Block) error {
	t.Helper()
	enc, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var dec chain.Block
	if err := dec.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	return c.InsertBlock(&dec)
}

// TestConsensusBodyBuiltImportedStoredAndReplayed: the builder asks the
// engine for the body and the header commits to it; a peer importing the
// block applies the body, stores it with the block and replays it.
func TestConsensusBodyBuiltImportedStoredAndReplayed(t *testing.T) {
	clk := ct.NewClock(ct.GenesisTime)
	producer := &bodyEngine{}
	a, b := openChain(t, producer, clk), openChain(t, &bodyEngine{}, clk)
	var blocks []*chain.Block
	for _, body := range [][]byte{[]byte("votes-1"), nil, []byte("votes-3")} {
		producer.next = body
		blk := ct.Mine(t, a, clk, ct.Addr(0), nil, nil)
		if !bytes.Equal(blk.Consensus, body) || blk.Header.ConsensusRoot != chain.ConsensusBodyRoot(body) {
			t.Fatalf("block %d: body %q, root %x", blk.Height(), blk.Consensus, blk.Header.ConsensusRoot)
		}
		if (body == nil) != (blk.Header.ConsensusRoot == common.Hash{}) {
			t.Fatalf("block %d: an empty body has no root, a body has one", blk.Height())
		}
		if blk.Header.Ethereum().Hash() != blk.Hash() {
			t.Fatalf("block %d: go-ethereum's header hash differs from the block hash", blk.Height())
		}
		if err := relay(t, b, blk); err != nil {
			t.Fatalf("import block %d: %v", blk.Height(), err)
		}
		blocks = append(blocks, blk)
	}
	want := []byte("votes-1votes-3")
	if got := a.Record(bodiesKey); !bytes.Equal(got, want) {
		t.Fatalf("producer's state has %q, want %q", got, want)
	}
	if got := b.Record(bodiesKey); !bytes.Equal(got, want) {
		t.Fatalf("importer's state has %q, want %q", got, want)
	}
	for _, blk := range blocks {
		stored, err := b.BlockByHash(blk.Hash())
		if err != nil || !bytes.Equal(stored.Consensus, blk.Consensus) {
			t.Fatalf("stored block %d: body %q (%v), want %q", blk.Height(), stored.Consensus, err, blk.Consensus)
		}
	}
	if err := b.VerifyReplay(); err != nil {
		t.Fatal(err)
	}
}

// TestConsensusBodyNotMatchingHeaderRefused: a body that differs from the
// header's root, a body dropped or added, a body the engine refuses, and a
// body sent to an engine that takes none make the block invalid.
func TestConsensusBodyNotMatchingHeaderRefused(t *testing.T) {
	clk := ct.NewClock(ct.GenesisTime)
	producer := &bodyEngine{next: []byte("votes")}
	a := openChain(t, producer, clk)
	withBody := ct.Mine(t, a, clk, ct.Addr(0), nil, nil)
	producer.next = nil
	a2 := openChain(t, producer, clk)
	withoutBody := ct.Mine(t, a2, clk, ct.Addr(0), nil, nil)

	edited := func(b *chain.Block, edit func(*chain.Block)) *chain.Block {
		c := &chain.Block{Header: b.Header.Copy(), Txs: b.Txs, Consensus: bytes.Clone(b.Consensus)}
		edit(c)
		return c
	}
	cases := []struct {
		name string
		b    *chain.Block
		e    chain.Engine
		want error
	}{
		{"body changed", edited(withBody, func(b *chain.Block) { b.Consensus[0] ^= 1 }), &bodyEngine{}, chain.ErrBadConsensusRoot},
		{"body dropped", edited(withBody, func(b *chain.Block) { b.Consensus = nil }), &bodyEngine{}, chain.ErrBadConsensusRoot},
		{"body added", edited(withoutBody, func(b *chain.Block) { b.Consensus = []byte("votes") }), &bodyEngine{}, chain.ErrBadConsensusRoot},
		{"root without body", edited(withoutBody, func(b *chain.Block) { b.Header.ConsensusRoot = crypto.Keccak256Hash([]byte("votes")) }), &bodyEngine{}, chain.ErrBadConsensusRoot},
		{"body refused by the engine", edited(withBody, func(b *chain.Block) {
			b.Consensus, b.Header.ConsensusRoot = refusedBody, chain.ConsensusBodyRoot(refusedBody)
		}), &bodyEngine{}, errBadBody},
		{"engine takes no body", withBody, ct.Engine{}, chain.ErrConsensusBody},
	}
	for _, tc := range cases {
		c := openChain(t, tc.e, clk)
		err := relay(t, c, tc.b)
		if !errors.Is(err, tc.want) || !chain.IsRuleError(err) {
			t.Errorf("%s: got %v, want the rule error %v", tc.name, err, tc.want)
		}
		if c.Head().Height() != 0 {
			t.Errorf("%s: the block was adopted", tc.name)
		}
	}
	if err := relay(t, openChain(t, &bodyEngine{}, clk), withBody); err != nil {
		t.Fatalf("the unedited block: %v", err)
	}
}
