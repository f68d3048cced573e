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
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
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

// push has peer i push a block that B signed for the current slot, with
// txs, on a parent the node does not have, and waits until the node
// handled it; the chain must not store it.
func (s *slasherNet) push(t *testing.T, i int, parent common.Hash, txs []*types.Transaction) {
	t.Helper()
	slot := s.eb.SlotAt(time.Now())
	h := &chain.Header{ParentHash: parent, Coinbase: s.b, Height: 7, Time: s.g.Timestamp + slot*uint64(time.Duration(pos.Section(s.g).SlotTime).Milliseconds()),
		Nonce: slot, TxRoot: chain.TxRoot(txs), Seal: make([]byte, 2*crypto.SignatureLength)}
	sealed, err := s.eb.Seal(context.Background(), nil, &chain.Block{Header: h, Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := sealed.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	peer, err := p2ptest.Dial(ctx, p2p.TCP{}, s.n.P2PAddr(), p2ptest.Key(i), p2ptest.Hello(s.g, s.eb, big.NewInt(1)))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if err := peer.Send(&p2p.PushBlock{Block: enc, Weight: big.NewInt(1000)}); err != nil {
		t.Fatal(err)
	}
	// The pong proves the node has handled the block (a peer's messages
	// are handled in order).
	if err := peer.Send(&p2p.Ping{Nonce: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := p2ptest.Await[*p2p.Pong](peer); err != nil {
		t.Fatal(err)
	}
	if s.n.Chain().GetHeader(sealed.Hash()) != nil {
		t.Fatalf("block %d was stored", i)
	}
}

// awaitEvidence waits until evidence of kind against B is in the node's
// pool, or B is slashed on its chain.
func (s *slasherNet) awaitEvidence(t *testing.T, kind uint8) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if s.eb.Slashed(pos.HeadState{C: s.n.Chain()}, s.b) {
			return // the evidence is in a block already
		}
		for _, tx := range s.n.Pool().Pending() {
			var ev pos.Evidence
			if to := tx.To(); to != nil && *to == pos.SlashingAddress && rlp.DecodeBytes(tx.Data(), &ev) == nil && ev.Kind == kind {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no evidence of kind %d against B in the node's pool", kind)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSlasherSeesBlocksTheChainRefuses: a validator node is pushed, by two
// peers, two blocks that validator B signed for one slot, each on a parent
// the node does not have, so the chain stores neither; the node's slasher
// saw both headers as p2p received them, and the node sends the evidence
// that slashes B (it is pending, or B is slashed already).
func TestSlasherSeesBlocksTheChainRefuses(t *testing.T) {
	s := newSlasherNet(t)
	s.push(t, 0, common.Hash{1}, nil)
	s.push(t, 1, common.Hash{2}, nil)
	s.awaitEvidence(t, pos.DoubleProposal)
}

// TestSlasherSeesVotesThePoolRefuses: B's vote reaches the node's pool;
// B's second vote for the same target, with the same nonce, comes only in
// a block on a parent the node does not have (as the other side's blocks
// come after a partition in which each side finalized its own branch:
// refused for reverting the finalized checkpoint). The pool would refuse
// it and the chain never stores it; the node's slasher saw it as p2p
// received the block, and the node sends the evidence of B's double vote.
// Before p2p showed the slasher the transactions of blocks it received,
// no evidence was ever sent.
func TestSlasherSeesVotesThePoolRefuses(t *testing.T) {
	s := newSlasherNet(t)
	epoch := s.eb.Epoch(s.eb.SlotAt(time.Now()))
	genesis := s.n.Chain().GenesisHeader().Hash()
	voteTx := func(target common.Hash) *types.Transaction {
		v := pos.Vote{Source: pos.Checkpoint{Hash: genesis}, Target: pos.Checkpoint{Epoch: epoch + 1, Hash: target}}
		to := pos.FinalityAddress
		tx, err := types.SignNewTx(s.keyB, s.g.Signer(), &types.DynamicFeeTx{ChainID: new(big.Int).SetUint64(s.g.ChainID), Nonce: 0,
			GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(100e9), Gas: chain.TransferGas, To: &to, Data: s.eb.EncodeVote(v)})
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	if err := s.n.Pool().Add(voteTx(common.Hash{1})); err != nil {
		t.Fatal(err)
	}
	s.push(t, 0, common.Hash{3}, []*types.Transaction{voteTx(common.Hash{2})})
	s.awaitEvidence(t, pos.DoubleVote)
}
