package pos

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// callTx signs a transaction from key to a system address.
func callTx(t *testing.T, g *chain.Genesis, k *ecdsa.PrivateKey, nonce uint64, to common.Address, value *big.Int, data []byte) *types.Transaction {
	t.Helper()
	tx, err := types.SignNewTx(k, g.Signer(), &types.DynamicFeeTx{ChainID: big.NewInt(int64(g.ChainID)), Nonce: nonce,
		GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(2e9), Gas: chain.TransferGas, To: &to, Value: value, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// nextSlotOf advances the clock to the next slot whose proposer is v.
func nextSlotOf(t *testing.T, n node, clk *clocks.Sim, v common.Address) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		clk.Advance(slotMs * time.Millisecond)
		if n.e.Proposer(HeadState{n.c}, n.e.SlotAt(clk.Now())) == v {
			return
		}
	}
	t.Fatal("validator never scheduled")
}

// includeEverywhere has the next slot's proposer build a block with items
// (transactions, votes, evidence; see pool).
func includeEverywhere(t *testing.T, nodes []node, clk *clocks.Sim, items ...any) *chain.Block {
	t.Helper()
	want := 0
	for _, it := range items {
		if _, ok := it.(*types.Transaction); ok {
			want++
		}
	}
	for i := 0; i < 100; i++ {
		clk.Advance(slotMs * time.Millisecond)
		if b := produce(t, nodes, clk, nil, func(int) []any { return items }); b != nil {
			if len(b.Txs) != want {
				t.Fatalf("%d of %d transactions included", len(b.Txs), want)
			}
			return b
		}
	}
	t.Fatal("no block produced")
	return nil
}

func slashedEverywhere(t *testing.T, nodes []node, v common.Address) {
	t.Helper()
	for i, n := range nodes {
		st := HeadState{n.c}
		if !n.e.Slashed(st, v) || n.e.Stake(st, v).Sign() != 0 {
			t.Fatalf("node %d: %s not slashed", i, v.Hex())
		}
	}
}

// TestDoubleProposalSlashed: a validator signs two different blocks for one
// slot; evidence from another validator gets it slashed on every node, and
// it is never drawn again.
func TestDoubleProposalSlashed(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, g, clk)
	cheat := nodes[1]
	nextSlotOf(t, cheat, clk, cheat.e.Address())
	a, err := cheat.c.BuildBlock(cheat.e.Address(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cheat.c.BuildBlock(cheat.e.Address(), []*types.Transaction{callTx(t, g, key(1), 0, common.Address{9}, big.NewInt(1), nil)})
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := cheat.e.Seal(context.Background(), cheat.c, a)
	sb, _ := cheat.e.Seal(context.Background(), cheat.c, b)
	for _, n := range nodes {
		for _, blk := range []*chain.Block{sa, sb} {
			if err := n.c.InsertBlock(blk); err != nil {
				t.Fatal(err)
			}
		}
	}
	ha, _ := sa.Header.MarshalBinary()
	hb, _ := sb.Header.MarshalBinary()
	includeEverywhere(t, nodes, clk, Evidence{Kind: DoubleProposal, A: ha, B: hb})
	slashedEverywhere(t, nodes, addr(1))
	// The epoch's schedule stays as it was drawn (TestSlashingKeepsTheEpochsSchedule);
	// from the next epoch on the slashed validator is never drawn.
	next := (nodes[0].e.Epoch(nodes[0].e.SlotAt(clk.Now())) + 1) * Section(g).EpochLength
	for s := uint64(0); s < 200; s++ {
		if nodes[0].e.Proposer(HeadState{nodes[0].c}, next+s) == addr(1) {
			t.Fatal("a slashed validator is still drawn")
		}
	}
	// Evidence that proves nothing is refused by the pool and by blocks.
	bogus := Evidence{Kind: DoubleProposal, A: ha, B: ha}
	if _, added, err := nodes[0].e.AddEvidence(HeadState{nodes[0].c}, bogus); added || !errors.Is(err, ErrBadEvidence) {
		t.Fatalf("bogus evidence pooled (%v)", err)
	}
	_, st := g.Block(nodes[0].e)
	if err := nodes[0].e.ApplyConsensus(nodes[0].c, st, nodes[0].c.Head().Header, (&Body{Evidence: []Evidence{bogus}}).Encode()); !errors.Is(err, ErrBadEvidence) {
		t.Fatalf("a block with bogus evidence: %v", err)
	}
}

// flipS returns sig's twin: s replaced by N - s and the recovery id
// flipped. It verifies and recovers to the same key as sig.
func flipS(sig []byte) []byte {
	n := crypto.S256().Params().N
	out := append([]byte(nil), sig...)
	new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:64])).FillBytes(out[32:64])
	out[64] ^= 1
	return out
}

// signWithNonce signs hash with k and the ECDSA nonce nonce (not RFC 6979's),
// in canonical low-s form: a second valid signature of the same message.
func signWithNonce(t *testing.T, hash []byte, k *ecdsa.PrivateKey, nonce *big.Int) []byte {
	t.Helper()
	curve := crypto.S256()
	n := curve.Params().N
	x, _ := curve.ScalarBaseMult(nonce.Bytes())
	r := new(big.Int).Mod(x, n)
	s := new(big.Int).Mul(r, new(big.Int).SetBytes(crypto.FromECDSA(k)))
	s.Add(s, new(big.Int).SetBytes(hash))
	s.Mul(s, new(big.Int).ModInverse(nonce, n))
	s.Mod(s, n)
	if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s.Sub(n, s)
	}
	sig := make([]byte, crypto.SignatureLength)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:64])
	for v := byte(0); v < 2; v++ {
		sig[64] = v
		if pub, err := crypto.SigToPub(hash, sig); err == nil && crypto.PubkeyToAddress(*pub) == crypto.PubkeyToAddress(k.PublicKey) {
			return sig
		}
	}
	t.Fatal("no recovery id recovers the key")
	return nil
}

// TestSameBlockSignedTwiceIsNoEvidence: the block hash covers the seal, so a
// header whose signature was re-made (a second valid low-s signature by the
// proposer) or s-flipped (by anyone) is another block hash for the same
// proposal. Neither pairs with the original as evidence; the s-flipped one
// is not even a valid block.
func TestSameBlockSignedTwiceIsNoEvidence(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, g, clk)
	honest := nodes[1]
	nextSlotOf(t, honest, clk, honest.e.Address())
	a, err := honest.c.BuildBlock(honest.e.Address(), nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := honest.c.BuildBlock(honest.e.Address(), []*types.Transaction{callTx(t, g, key(1), 0, common.Address{9}, big.NewInt(1), nil)})
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := honest.e.Seal(context.Background(), honest.c, a)
	so, _ := honest.e.Seal(context.Background(), honest.c, other)
	parent := honest.c.Head().Header
	root := honest.e.BlockSigningRoot(sa.Header)
	flipped := sa.Header.Copy()
	copy(flipped.Seal, flipS(sa.Header.Seal[:crypto.SignatureLength]))
	resigned := sa.Header.Copy()
	copy(resigned.Seal, signWithNonce(t, root[:], key(1), big.NewInt(123456789)))
	if flipped.Hash() == sa.Hash() || resigned.Hash() == sa.Hash() || !bytes.Equal(resigned.Seal[crypto.SignatureLength:], sa.Header.Seal[crypto.SignatureLength:]) {
		t.Fatal("the copies must be other block hashes with the same reveal")
	}
	if err := honest.e.VerifyHeader(honest.c, flipped, parent); !errors.Is(err, ErrBadSeal) {
		t.Fatalf("an s-flipped seal: %v", err)
	}
	if err := honest.e.VerifyHeader(honest.c, resigned, parent); err != nil {
		t.Fatalf("the proposer's second signature must be a valid seal: %v", err)
	}
	enc := func(h *chain.Header) []byte {
		b, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, copy := range map[string]*chain.Header{"s-flipped": flipped, "re-signed": resigned} {
		if _, err := honest.e.checkDoubleProposal(enc(sa.Header), enc(copy)); !errors.Is(err, ErrBadEvidence) {
			t.Fatalf("%s copy taken as evidence: %v", name, err)
		}
	}
	if who, err := honest.e.checkDoubleProposal(enc(sa.Header), enc(so.Header)); err != nil || who != addr(1) {
		t.Fatalf("two proposals for one slot: %v, %v", who, err)
	}
}

// TestDoubleAndSurroundVotesSlashed: two votes for one target, or a vote
// surrounding another, get the voter slashed.
func TestDoubleAndSurroundVotesSlashed(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b Vote
	}{
		{"double", Vote{Target: Checkpoint{Epoch: 3, Hash: common.Hash{1}}}, Vote{Target: Checkpoint{Epoch: 3, Hash: common.Hash{2}}}},
		{"surround", Vote{Source: Checkpoint{Epoch: 1}, Target: Checkpoint{Epoch: 5}}, Vote{Source: Checkpoint{Epoch: 2}, Target: Checkpoint{Epoch: 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testGenesis(10, 10, 10, 10)
			clk := clocks.NewSim(genesisTime)
			nodes := newNodes(t, g, clk)
			ra, rb := signedVote(t, g, key(2), tc.a), signedVote(t, g, key(2), tc.b)
			includeEverywhere(t, nodes, clk, Evidence{Kind: DoubleVote, A: ra.Encode(), B: rb.Encode()})
			slashedEverywhere(t, nodes, addr(2))
		})
	}
}

// TestBondAndUnbond: a newcomer bonds and becomes a proposer from the next
// epoch; an exit leaves the active stake only at an epoch boundary
// ExitDelay epochs later, and the stake is paid back only after the delay.
func TestBondAndUnbond(t *testing.T) {
	g := testGenesis(10, 10)
	newcomer, _ := crypto.GenerateKey()
	who := crypto.PubkeyToAddress(newcomer.PublicKey)
	g.Alloc[who] = chain.GenesisAccount{Balance: chain.NewBigInt(new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18)))}
	clk := clocks.NewSim(genesisTime)
	nodes := append(newNodes(t, g, clk), newNode(t, g, clk, newcomer))
	bond := new(big.Int).Mul(big.NewInt(980), big.NewInt(1e18))
	includeEverywhere(t, nodes, clk, callTx(t, g, newcomer, 0, StakingAddress, bond, nil))
	st := HeadState{nodes[0].c}
	if nodes[0].e.Stake(st, who).Sign() != 0 {
		t.Fatal("bonded stake active before the next epoch")
	}
	checkDraws(t, nodes[0].e, st, nodes[0].e.SlotAt(clk.Now()))
	run(t, g, nodes, clk, 2, nil, map[int]bool{2: true})
	if got := nodes[0].e.Stake(st, who); got.Cmp(bond) != 0 {
		t.Fatalf("stake %v after an epoch, want %v", got, bond)
	}
	drawn := 0
	for s := uint64(1); s <= 100; s++ {
		if nodes[0].e.Proposer(st, nodes[0].e.SlotAt(clk.Now())+s) == who {
			drawn++
		}
	}
	if drawn < 80 { // 980 of 1000 ether at stake
		t.Fatalf("the newcomer with 98%% of stake proposes %d of 100 slots", drawn)
	}
	before := nodes[0].c.Account(who).Balance
	data, _ := rlp.EncodeToBytes(StakingCall{Unbond: bond})
	includeEverywhere(t, nodes, clk, callTx(t, g, newcomer, 1, StakingAddress, nil, data))
	if nodes[0].e.Stake(st, who).Cmp(bond) != 0 {
		t.Fatal("an exit took effect before the epoch boundary")
	}
	checkDraws(t, nodes[0].e, st, nodes[0].e.SlotAt(clk.Now()))
	run(t, g, nodes, clk, ExitDelay, nil, map[int]bool{2: true})
	if nodes[0].e.Stake(st, who).Sign() != 0 {
		t.Fatalf("stake still active %d epochs after the exit", ExitDelay)
	}
	checkDraws(t, nodes[0].e, st, nodes[0].e.SlotAt(clk.Now()))
	ether := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }
	if gain := new(big.Int).Sub(nodes[0].c.Account(who).Balance, before); gain.Cmp(ether(100)) > 0 { // block rewards only
		t.Fatalf("unbonded stake paid back at once (balance +%v)", gain)
	}
	run(t, g, nodes, clk, int(Section(g).UnbondDelay)+1, nil, map[int]bool{2: true})
	if after := nodes[0].c.Account(who).Balance; new(big.Int).Sub(after, before).Cmp(ether(979)) < 0 {
		t.Fatalf("stake not paid back after the delay: %v -> %v", before, after)
	}
}
