package node_test

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
	"github.com/chaind/chaind/pos"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// slasherNet is a running PoS validator node with key A, validators A and
// B of equal stake, both funded, and B's engine, to sign what the node's
// peers send it.
type slasherNet struct {
	g    *chain.Genesis
	n    *node.Node
	eb   *pos.Engine
	keyB *ecdsa.PrivateKey
	b    common.Address
}

func newSlasherNet(t *testing.T) *slasherNet {
	t.Helper()
	keyA, _ := crypto.ToECDSA(crypto.Keccak256([]byte("slasher test A")))
	keyB, _ := crypto.ToECDSA(crypto.Keccak256([]byte("slasher test B")))
	a, b := crypto.PubkeyToAddress(keyA.PublicKey), crypto.PubkeyToAddress(keyB.PublicKey)
	g := &chain.Genesis{ChainID: 4242, Consensus: chain.ConsensusPoS, Timestamp: uint64(time.Now().UnixMilli()),
		Alloc: chain.Alloc{a: {Balance: chain.NewBigInt(big.NewInt(1e18))}, b: {Balance: chain.NewBigInt(big.NewInt(1e18))}},
		Engine: &pos.GenesisConfig{SlotTime: chain.Duration(500 * time.Millisecond), EpochLength: 4,
			Validators: []pos.GenesisValidator{{Address: a, Stake: chain.NewBigInt(big.NewInt(1e18))}, {Address: b, Stake: chain.NewBigInt(big.NewInt(1e18))}}}}
	g.FillDefaults()
	n, err := node.New(node.Config{DataDir: t.TempDir(), Genesis: g, ValidatorKey: keyA, RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	eb, err := pos.New(g, keyB, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &slasherNet{g: g, n: n, eb: eb, keyB: keyB, b: b}
}

// dial connects peer i to the node.
func (s *slasherNet) dial(t *testing.T, i int) *p2ptest.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	peer, err := p2ptest.Dial(ctx, p2p.TCP{}, s.n.P2PAddr(), p2ptest.Key(i), p2ptest.Hello(s.g, s.eb, big.NewInt(1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return peer
}

// send has peer send m and waits until the node handled it: the pong
// proves it (a peer's messages are handled in order).
func send(t *testing.T, peer *p2ptest.Peer, m p2p.Msg) {
	t.Helper()
	if err := peer.Send(m); err != nil {
		t.Fatal(err)
	}
	if err := peer.Send(&p2p.Ping{Nonce: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := p2ptest.Await[*p2p.Pong](peer); err != nil {
		t.Fatal(err)
	}
}

// push has peer i push a block that B signed for the current slot, with
// the consensus body body, on a parent the node does not have, and waits
// until the node handled it; the chain must not store it.
func (s *slasherNet) push(t *testing.T, i int, parent common.Hash, body []byte) {
	t.Helper()
	slot := s.eb.SlotAt(time.Now())
	h := &chain.Header{ParentHash: parent, Coinbase: s.b, Height: 7, Time: s.g.Timestamp + slot*uint64(time.Duration(pos.Section(s.g).SlotTime).Milliseconds()),
		Nonce: slot, TxRoot: chain.TxRoot(nil), ConsensusRoot: chain.ConsensusBodyRoot(body), Seal: make([]byte, 2*crypto.SignatureLength)}
	sealed, err := s.eb.Seal(context.Background(), nil, &chain.Block{Header: h, Consensus: body})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := sealed.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	send(t, s.dial(t, i), &p2p.PushBlock{Block: enc, Weight: big.NewInt(1000)})
	if s.n.Chain().GetHeader(sealed.Hash()) != nil {
		t.Fatalf("block %d was stored", i)
	}
}

// awaitSlashed waits until B is slashed on the node's chain: the node's
// slasher found the evidence, and the node included it in a block.
func (s *slasherNet) awaitSlashed(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !s.eb.Slashed(pos.HeadState{C: s.n.Chain()}, s.b) {
		if time.Now().After(deadline) {
			t.Fatal("B was not slashed on the node's chain")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSlasherSeesBlocksTheChainRefuses: a validator node is pushed, by two
// peers, two blocks that validator B signed for one slot, each on a parent
// the node does not have, so the chain stores neither; the node's slasher
// saw both headers as p2p received them, and the node includes the
// evidence that slashes B.
func TestSlasherSeesBlocksTheChainRefuses(t *testing.T) {
	s := newSlasherNet(t)
	s.push(t, 0, common.Hash{1}, nil)
	s.push(t, 1, common.Hash{2}, nil)
	s.awaitSlashed(t)
}

// TestSlasherSeesVotesOfBlocksTheChainRefuses: B's vote reaches the node
// on the vote channel; B's second vote for the same target comes only in
// the consensus body of a block on a parent the node does not have (as
// the other side's blocks come after a partition in which each side
// finalized its own branch: refused for reverting the finalized
// checkpoint). The chain never stores it; the node's slasher saw it as p2p
// received the block, and the node includes the evidence of B's double
// vote in its own block.
func TestSlasherSeesVotesOfBlocksTheChainRefuses(t *testing.T) {
	s := newSlasherNet(t)
	epoch := s.eb.Epoch(s.eb.SlotAt(time.Now()))
	genesis := s.n.Chain().GenesisHeader().Hash()
	vote := func(target common.Hash) pos.SignedVote {
		sv, err := s.eb.SignVote(s.keyB, pos.Vote{Source: pos.Checkpoint{Hash: genesis}, Target: pos.Checkpoint{Epoch: epoch + 1, Hash: target}})
		if err != nil {
			t.Fatal(err)
		}
		return sv
	}
	first := vote(common.Hash{1})
	send(t, s.dial(t, 0), &p2p.ChannelMsg{Code: pos.VoteCode, Payload: first.Encode()})
	s.push(t, 1, common.Hash{3}, (&pos.Body{Votes: []pos.SignedVote{vote(common.Hash{2})}}).Encode())
	s.awaitSlashed(t)
}
