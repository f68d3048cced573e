package pos

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/ethereum/go-ethereum/common"
)

// resealed is b's header on another parent, signed again by its proposer
// (whose engine is e): a second block of that proposer for that slot, whose
// parent no node has.
func resealed(t *testing.T, e *Engine, b *chain.Block) *chain.Header {
	t.Helper()
	h := b.Header.Copy()
	h.ParentHash = common.Hash{0xba, 0xd}
	sealed, err := e.Seal(context.Background(), nil, &chain.Block{Header: h, Txs: b.Txs})
	if err != nil {
		t.Fatal(err)
	}
	return sealed.Header
}

// TestSlasherReportsProposalsOnRefusedBlocks: a validator's second block for
// a slot, on a branch whose blocks the other nodes cannot store (its parent
// is unknown to them; after a partition, it would revert their finalized
// checkpoint), is never among the stored headers the validator scans; the
// slasher, which records every header the nodes receive, proves the double
// proposal, and the proposer is slashed on every node.
func TestSlasherReportsProposalsOnRefusedBlocks(t *testing.T) {
	g := testGenesis(25, 25, 25, 25)
	net := newValidatorNet(t, g, nil)
	net.run(int(Section(g).EpochLength))
	head := net.nodes[0].c.Head()
	p := -1
	for i := range Section(g).Validators {
		if addr(i) == head.Header.Coinbase {
			p = i
		}
	}
	twin := resealed(t, net.nodes[p].e, head)
	for i, n := range net.nodes {
		if i == p {
			continue
		}
		net.vals[i].ObserveHeader(twin)
		if err := n.c.InsertBlock(&chain.Block{Header: twin, Txs: head.Txs}); !errors.Is(err, chain.ErrUnknownParent) {
			t.Fatalf("node %d: the twin block: %v, want it refused for its unknown parent", i, err)
		}
	}
	net.run(3 * int(Section(g).EpochLength))
	for i, n := range net.nodes {
		if !n.e.Slashed(HeadState{n.c}, addr(p)) {
			t.Fatalf("node %d: validator %d, which proposed twice in slot %d, is not slashed", i, p, head.Header.Nonce)
		}
		for h := range Section(g).Validators {
			if h != p && n.e.Slashed(HeadState{n.c}, addr(h)) {
				t.Fatalf("node %d: honest validator %d slashed", i, h)
			}
		}
	}
}

// TestSlasherRecords: the records survive a restart, belong to one chain,
// ignore headers that are not a validator's or are outside the window, and
// are deleted once the window has moved past them.
func TestSlasherRecords(t *testing.T) {
	g := testGenesis(25, 25, 25, 25)
	net := newValidatorNet(t, g, nil)
	net.run(int(Section(g).EpochLength))
	n := net.nodes[0]
	head := n.c.Head()
	var p int
	for i := range Section(g).Validators {
		if addr(i) == head.Header.Coinbase {
			p = i
		}
	}
	dir := filepath.Join(t.TempDir(), SlasherDir)
	s, err := OpenSlasher(n.e, dir)
	if err != nil {
		t.Fatal(err)
	}
	st := HeadState{n.c}
	if ev, err := s.ObserveHeader(st, head.Header); ev != nil || err != nil {
		t.Fatalf("first header: evidence %v, %v", ev, err)
	}
	if ev, err := s.ObserveHeader(st, head.Header); ev != nil || err != nil {
		t.Fatalf("the same header again: evidence %v, %v", ev, err)
	}
	forged := head.Header.Copy()
	forged.ParentHash = common.Hash{1}
	if ev, err := s.ObserveHeader(st, forged); ev != nil || err != nil {
		t.Fatalf("a header whose seal does not verify: evidence %v, %v", ev, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	other := testGenesis(25, 25, 25, 26)
	if _, err := OpenSlasher(engineOf(t, other), dir); err == nil {
		t.Fatal("another chain's engine opened the slasher's records")
	}
	if s, err = OpenSlasher(n.e, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev, err := s.ObserveHeader(st, resealed(t, net.nodes[p].e, head))
	if err != nil || ev == nil {
		t.Fatalf("a second block for the slot after a restart: evidence %v, %v", ev, err)
	}
	if offender, err := n.e.checkEvidence(ev); err != nil || offender != addr(p) {
		t.Fatalf("the evidence proves %s (%v), want validator %d", offender, err, p)
	}

	window := time.Duration(EvidenceWindow*Section(g).EpochLength) * slotMs * time.Millisecond
	net.clk.Advance(window + 2*slotMs*time.Millisecond)
	if ev, err := s.ObserveHeader(st, resealed(t, net.nodes[p].e, head)); ev != nil || err != nil {
		t.Fatalf("a header older than the window: evidence %v, %v", ev, err)
	}
	if got, _, _ := s.Records(); got != 0 {
		t.Fatalf("%d records once the window has moved past them, want 0", got)
	}
}
