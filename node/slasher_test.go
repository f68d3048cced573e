package node_test

import (
	"context"
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
	"github.com/ethereum/go-ethereum/rlp"
)

// TestSlasherSeesBlocksTheChainRefuses: a validator node is pushed, by two
// peers, two blocks that validator B signed for one slot, each on a parent
// the node does not have, so the chain stores neither; the node's slasher
// saw both headers as p2p received them, and the node sends the evidence
// that slashes B (it is pending, or B is slashed already).
func TestSlasherSeesBlocksTheChainRefuses(t *testing.T) {
	keyA, _ := crypto.ToECDSA(crypto.Keccak256([]byte("slasher test A")))
	keyB, _ := crypto.ToECDSA(crypto.Keccak256([]byte("slasher test B")))
	a, b := crypto.PubkeyToAddress(keyA.PublicKey), crypto.PubkeyToAddress(keyB.PublicKey)
	g := &chain.Genesis{ChainID: 4242, Consensus: chain.ConsensusPoS, SlotTime: chain.Duration(500 * time.Millisecond), EpochLength: 4,
		Timestamp: uint64(time.Now().UnixMilli()), Alloc: chain.Alloc{a: {Balance: chain.NewBigInt(big.NewInt(1e18))}},
		Validators: []chain.GenesisValidator{{Address: a, Stake: chain.NewBigInt(big.NewInt(1e18))}, {Address: b, Stake: chain.NewBigInt(big.NewInt(1e18))}}}
	g.FillDefaults()
	n, err := node.New(node.Config{DataDir: t.TempDir(), Genesis: g, ValidatorKey: keyA, RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	eb, err := pos.New(g, keyB, nil)
	if err != nil {
		t.Fatal(err)
	}
	slot := eb.SlotAt(time.Now())
	for i, parent := range []common.Hash{{1}, {2}} {
		h := &chain.Header{ParentHash: parent, Coinbase: b, Height: 7, Time: g.Timestamp + slot*uint64(time.Duration(g.SlotTime).Milliseconds()),
			Nonce: slot, Seal: make([]byte, 2*crypto.SignatureLength)}
		sealed, err := eb.Seal(context.Background(), nil, &chain.Block{Header: h})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := sealed.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		peer, err := p2ptest.Dial(ctx, p2p.TCP{}, n.P2PAddr(), p2ptest.Key(i), p2ptest.Hello(g, eb, big.NewInt(1)))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if err := peer.Send(&p2p.PushBlock{Block: enc, Weight: big.NewInt(1000)}); err != nil {
			t.Fatal(err)
		}
		// The pong proves the node has handled the block (a peer's
		// messages are handled in order).
		if err := peer.Send(&p2p.Ping{Nonce: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := p2ptest.Await[*p2p.Pong](peer); err != nil {
			t.Fatal(err)
		}
		peer.Close()
		if n.Chain().GetHeader(sealed.Hash()) != nil {
			t.Fatalf("block %d was stored", i)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if eb.Slashed(pos.HeadState{C: n.Chain()}, b) {
			return // the evidence is in a block already
		}
		for _, tx := range n.Pool().Pending() {
			var ev pos.Evidence
			if to := tx.To(); to != nil && *to == pos.SlashingAddress && rlp.DecodeBytes(tx.Data(), &ev) == nil && ev.Kind == pos.DoubleProposal {
				var h chain.Header
				if h.UnmarshalBinary(ev.B) != nil || h.Coinbase != b {
					t.Fatalf("evidence against %s, want %s", h.Coinbase, b)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no evidence of B's double proposal in the node's pool")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
