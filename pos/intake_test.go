package pos

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// TestSystemCallsCheckedAtIntake: for calls to each system address, good
// and bad, the intake check (CheckSystemTx against the head state) refuses
// exactly those that a block leaves out because they would fail.
func TestSystemCallsCheckedAtIntake(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	outsider := key(9)
	g.Alloc[addr(9)] = chain.GenesisAccount{Balance: chain.NewBigInt(new(big.Int).Mul(big.NewInt(100), big.NewInt(1e18)))}
	other := testGenesis(10, 10, 10, 10)
	other.Timestamp++
	clk := clocks.NewSim(genesisTime)
	n := newNode(t, g, clk, key(0))
	nextSlotOf(t, n, clk, addr(0))
	st := HeadState{n.c}
	just := n.e.justified(st)
	vote := Vote{Source: just, Target: Checkpoint{Epoch: 1, Hash: common.Hash{1}}}
	unbond := func(wei *big.Int) []byte {
		data, _ := rlp.EncodeToBytes(StakingCall{Unbond: wei})
		return data
	}
	stake := n.e.Stake(st, addr(1))
	bogus, _ := rlp.EncodeToBytes(Evidence{Kind: DoubleVote, A: []byte{1}, B: []byte{2}})
	big1 := big.NewInt(1)
	for _, tc := range []struct {
		name string
		tx   *types.Transaction
		ok   bool
	}{
		{"a vote", voteTx(t, g, key(1), 0, vote), true},
		{"a vote of junk", callTx(t, g, key(1), 0, FinalityAddress, nil, bytes.Repeat([]byte{0xab}, 30<<10)), false},
		{"a vote too long", callTx(t, g, key(1), 0, FinalityAddress, nil, append(n.e.EncodeVote(vote), make([]byte, 100)...)), false},
		{"a vote for another chain", voteTx(t, other, key(1), 0, vote), false},
		{"a vote from no validator", voteTx(t, g, outsider, 0, vote), false},
		{"a bond", callTx(t, g, outsider, 0, StakingAddress, big.NewInt(1e18), nil), true},
		{"an unbond", callTx(t, g, key(1), 0, StakingAddress, nil, unbond(stake)), true},
		{"an unbond of more than the stake", callTx(t, g, key(1), 0, StakingAddress, nil, unbond(new(big.Int).Add(stake, big1))), false},
		{"an unbond without stake", callTx(t, g, outsider, 0, StakingAddress, nil, unbond(big1)), false},
		{"a staking call of junk", callTx(t, g, key(1), 0, StakingAddress, nil, bytes.Repeat([]byte{0xab}, 30<<10)), false},
		{"evidence that proves nothing", callTx(t, g, key(1), 0, SlashingAddress, nil, bogus), false},
		{"evidence of junk", callTx(t, g, key(1), 0, SlashingAddress, nil, bytes.Repeat([]byte{0xab}, 30<<10)), false},
	} {
		from, err := g.Sender(tc.tx)
		if err != nil {
			t.Fatal(err)
		}
		intake := n.e.CheckSystemTx(st, from, tc.tx)
		b, err := n.c.BuildBlock(addr(0), []*types.Transaction{tc.tx})
		if err != nil {
			t.Fatal(err)
		}
		if mined := len(b.Txs) == 1; (intake == nil) != tc.ok || mined != tc.ok {
			t.Fatalf("%s: intake %v, in a block %v, want admitted %v", tc.name, intake, mined, tc.ok)
		}
	}
}

// TestPoolDropsCallsTheHeadMadeFail: two unbonds that each fit the stake
// are admitted; once a block includes the first, the second would fail,
// and the pool drops it at the head change.
func TestPoolDropsCallsTheHeadMadeFail(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	clk := clocks.NewSim(genesisTime)
	nodes := newNodes(t, g, clk)
	n := nodes[0]
	pool := mempool.New(mempool.Config{Chain: n.c, CheckCall: func(from common.Address, tx *types.Transaction) error {
		return n.e.CheckSystemTx(HeadState{n.c}, from, tx)
	}})
	n.c.Subscribe(pool.Reset)
	stake := n.e.Stake(HeadState{n.c}, addr(1))
	data, _ := rlp.EncodeToBytes(StakingCall{Unbond: stake})
	first := callTx(t, g, key(1), 0, StakingAddress, nil, data)
	second := callTx(t, g, key(1), 1, StakingAddress, nil, data)
	for _, tx := range []*types.Transaction{first, second} {
		if err := pool.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	junk := callTx(t, g, key(2), 0, FinalityAddress, nil, []byte{0xc0})
	if err := pool.Add(junk); err == nil {
		t.Fatal("a vote that does not decode was admitted")
	}
	includeEverywhere(t, nodes, clk, first)
	if pool.Get(second.Hash()) != nil || pool.Len() != 0 {
		t.Fatalf("%d transactions left in the pool, the failing unbond among them: %v", pool.Len(), pool.Get(second.Hash()) != nil)
	}
}
