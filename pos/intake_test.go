package pos

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/chaind/chaind/chain"
	clocks "github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// TestSystemCallsCheckedAtIntake: for calls to the system address, good
// and bad, the intake check (CheckSystemTx against the head state) refuses
// exactly those that a block leaves out because they would fail.
func TestSystemCallsCheckedAtIntake(t *testing.T) {
	g := testGenesis(10, 10, 10, 10)
	outsider := key(9)
	g.Alloc[addr(9)] = chain.GenesisAccount{Balance: chain.NewBigInt(new(big.Int).Mul(big.NewInt(100), big.NewInt(1e18)))}
	clk := clocks.NewSim(genesisTime)
	n := newNode(t, g, clk, key(0))
	nextSlotOf(t, n, clk, addr(0))
	st := HeadState{n.c}
	unbond := func(wei *big.Int) []byte {
		data, _ := rlp.EncodeToBytes(StakingCall{Unbond: wei})
		return data
	}
	stake := n.e.Stake(st, addr(1))
	big1 := big.NewInt(1)
	for _, tc := range []struct {
		name string
		tx   *types.Transaction
		ok   bool
	}{
		{"a bond", callTx(t, g, outsider, 0, StakingAddress, big.NewInt(1e18), nil), true},
		{"an unbond", callTx(t, g, key(1), 0, StakingAddress, nil, unbond(stake)), true},
		{"an unbond of more than the stake", callTx(t, g, key(1), 0, StakingAddress, nil, unbond(new(big.Int).Add(stake, big1))), false},
		{"an unbond without stake", callTx(t, g, outsider, 0, StakingAddress, nil, unbond(big1)), false},
		{"a staking call of junk", callTx(t, g, key(1), 0, StakingAddress, nil, bytes.Repeat([]byte{0xab}, 30<<10)), false},
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
	// Votes are consensus messages: a vote transaction to the address that
	// took them is calldata to no system address, refused.
	oldFinalityAddress := common.HexToAddress("0x00000000000000000000000000000000000F1A11")
	if err := pool.Add(callTx(t, g, key(2), 0, oldFinalityAddress, nil, []byte{0xc0})); !errors.Is(err, chain.ErrCalldata) {
		t.Fatalf("a vote transaction: %v", err)
	}
	includeEverywhere(t, nodes, clk, first)
	if pool.Get(second.Hash()) != nil || pool.Len() != 0 {
		t.Fatalf("%d transactions left in the pool, the failing unbond among them: %v", pool.Len(), pool.Get(second.Hash()) != nil)
	}
}
