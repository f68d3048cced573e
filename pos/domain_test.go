package pos

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
)

func encodeHeader(t *testing.T, h *chain.Header) []byte {
	t.Helper()
	b, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refusedEverywhere checks that ev is refused by every node's evidence
// pool and in a block, and that v stays unslashed.
func refusedEverywhere(t *testing.T, nodes []node, ev Evidence, v common.Address) {
	t.Helper()
	for i, n := range nodes {
		if _, added, err := n.e.AddEvidence(HeadState{n.c}, ev); added || !errors.Is(err, ErrBadEvidence) {
			t.Fatalf("node %d pooled the evidence (%v)", i, err)
		}
	}
	n := nodes[0]
	_, st := n.c.Genesis().Block(n.e)
	if err := n.e.ApplyConsensus(n.c, st, n.c.Head().Header, (&Body{Evidence: []Evidence{ev}}).Encode()); !errors.Is(err, ErrBadEvidence) {
		t.Fatalf("a block with the evidence: %v", err)
	}
	for i, n := range nodes {
		if n.e.Slashed(HeadState{n.c}, v) {
			t.Fatalf("node %d slashed %s", i, v.Hex())
		}
	}
}

// TestForgedSlotIsNoEvidence: the slot rides in the header's nonce, which
// the seal hash leaves out. Copying the slot of one honest block of a
// proposer into another of its blocks makes two headers "for one slot"
// whose seals still verify over the seal hash; the proposer signs its slot
// (BlockSigningRoot), so the forged header proves nothing and nobody is
// slashed, whether or not the forger also rewrites the time.
func TestForgedSlotIsNoEvidence(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, g, clk)
	run(t, g, nodes, clk, 3, nil, nil)
	c := nodes[0].c
	first := map[common.Address]*chain.Header{}
	var a, b *chain.Header
	for height := uint64(1); height <= c.Head().Height() && a == nil; height++ {
		hs, err := c.HeadersAt(height)
		if err != nil {
			t.Fatal(err)
		}
		h := hs[0]
		if prev := first[h.Coinbase]; prev != nil {
			a, b = prev, h
		}
		first[h.Coinbase] = h
	}
	if a == nil {
		t.Fatal("no validator proposed twice")
	}
	forged := b.Copy()
	forged.Nonce = a.Nonce
	ev := Evidence{Kind: DoubleProposal, A: encodeHeader(t, a), B: encodeHeader(t, forged)}
	if who, err := nodes[0].e.checkDoubleProposal(encodeHeader(t, a), encodeHeader(t, forged)); !errors.Is(err, ErrBadEvidence) {
		t.Fatalf("forged slot: %s would be slashed (%v)", who.Hex(), err)
	}
	retimed := forged.Copy()
	retimed.Time = a.Time
	if who, err := nodes[0].e.checkDoubleProposal(encodeHeader(t, a), encodeHeader(t, retimed)); !errors.Is(err, ErrBadEvidence) {
		t.Fatalf("forged slot and time: %s would be slashed (%v)", who.Hex(), err)
	}
	refusedEverywhere(t, nodes, ev, a.Coinbase)
}

// TestEvidenceFromAnotherChainRefused: one validator key used honestly on
// two networks with the same chain id and different genesis blocks (every
// test network has chain id 31337). Its block for slot 1 and its vote for
// epoch 1 on the other network differ from those here, yet neither pairs
// with its messages here as evidence, and its vote from there is not a
// vote here.
func TestEvidenceFromAnotherChainRefused(t *testing.T) {
	here := testGenesis(10, 10, 10, 10)
	there := testGenesis(10, 10, 10, 10)
	there.Alloc[common.Address{0xee}] = chain.GenesisAccount{Balance: chain.NewBigInt(big.NewInt(1))}
	if here.ChainID != there.ChainID {
		t.Fatal("the networks must share their chain id")
	}
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, here, clk)
	others := newNodes(t, there, clk)
	if nodes[0].c.GenesisHeader().Hash() == others[0].c.GenesisHeader().Hash() {
		t.Fatal("the networks must have different genesis blocks")
	}
	clk.Advance(slotMs * time.Millisecond)
	ha, hb := produce(t, nodes, clk, nil, nil), produce(t, others, clk, nil, nil)
	if ha.Header.Coinbase != hb.Header.Coinbase || ha.Header.Nonce != hb.Header.Nonce {
		t.Fatal("slot 1 must have the same proposer on both networks")
	}
	proposer := ha.Header.Coinbase
	if _, err := nodes[0].e.checkDoubleProposal(encodeHeader(t, ha.Header), encodeHeader(t, hb.Header)); !errors.Is(err, ErrBadEvidence) {
		t.Fatalf("blocks of two networks taken as a double proposal: %v", err)
	}
	refusedEverywhere(t, nodes, Evidence{Kind: DoubleProposal, A: encodeHeader(t, ha.Header), B: encodeHeader(t, hb.Header)}, proposer)

	// Validator 2 votes for epoch 1 on both networks: different targets.
	target := func(n node) Vote {
		st := HeadState{n.c}
		cp, ok := n.e.checkpoint(st, 1)
		if !ok {
			t.Fatal("no checkpoint for epoch 1")
		}
		return Vote{Source: n.e.justified(st), Target: Checkpoint{Epoch: 1, Hash: cp}}
	}
	for i := 0; i < int(Section(here).EpochLength); i++ {
		clk.Advance(slotMs * time.Millisecond)
		produce(t, nodes, clk, nil, nil)
		produce(t, others, clk, nil, nil)
	}
	va, vb := target(nodes[0]), target(others[0])
	if va == vb {
		t.Fatal("the networks' checkpoints must differ")
	}
	sa, sb := signedVote(t, here, key(2), va), signedVote(t, there, key(2), vb)
	ra, rb := sa.Encode(), sb.Encode()
	if _, err := nodes[0].e.checkDoubleVote(ra, rb); !errors.Is(err, ErrBadEvidence) {
		t.Fatalf("votes of two networks taken as a double vote: %v", err)
	}
	_, st := here.Block(nodes[0].e)
	if err := nodes[0].e.ApplyConsensus(nodes[0].c, st, nodes[0].c.Head().Header, (&Body{Votes: []SignedVote{sb}}).Encode()); !errors.Is(err, ErrBadVote) {
		t.Fatalf("a vote signed for another network applied here: %v", err)
	}
	if added, err := nodes[0].e.AddVote(HeadState{nodes[0].c}, sb); added || !errors.Is(err, ErrBadVote) {
		t.Fatalf("a vote signed for another network pooled here (%v)", err)
	}
	refusedEverywhere(t, nodes, Evidence{Kind: DoubleVote, A: ra, B: rb}, addr(2))
}
