package chain

import (
	"math/big"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"
)

// ethereumRoot is the state root go-ethereum's StateDB computes for accts
// (no storage, no code; empty accounts kept, as before EIP-158).
func ethereumRoot(t testing.TB, accts map[common.Address]Account) common.Hash {
	t.Helper()
	sdb, err := state.New(types.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		t.Fatal(err)
	}
	for addr, a := range accts {
		sdb.CreateAccount(addr)
		sdb.SetBalance(addr, uint256.MustFromBig(a.Balance), tracing.BalanceChangeUnspecified)
		sdb.SetNonce(addr, a.Nonce, tracing.NonceChangeUnspecified)
	}
	return sdb.IntermediateRoot(params.Rules{})
}

// TestStateRootIsEthereums: for the same accounts the state root is the one
// go-ethereum computes, in memory and on a store, after changes, a revert
// and a commit, and for a copy.
func TestStateRootIsEthereums(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 3))
	want := map[common.Address]Account{}
	st := NewState()
	check := func(when string) {
		t.Helper()
		root := ethereumRoot(t, want)
		if got := st.Root(); got != root {
			t.Fatalf("%s: root %x, go-ethereum's %x", when, got, root)
		}
		if got := st.Copy().Root(); got != root {
			t.Fatalf("%s: a copy's root %x, go-ethereum's %x", when, got, root)
		}
	}
	check("empty")
	set := func(n int) {
		for range n {
			var addr common.Address
			for i := range addr {
				addr[i] = byte(r.Uint32())
			}
			a := Account{Nonce: r.Uint64N(5), Balance: new(big.Int).Lsh(new(big.Int).SetUint64(r.Uint64()), uint(r.IntN(190)))}
			if r.IntN(10) == 0 {
				a = Account{Balance: new(big.Int)} // an empty account still counts
			}
			st.Set(addr, a)
			want[addr] = a
		}
	}
	set(300)
	check("300 accounts")
	mark := st.Mark()
	saved := make(map[common.Address]Account, len(want))
	for k, v := range want {
		saved[k] = v
	}
	set(200)
	check("500 accounts")
	st.RevertTo(mark)
	want = saved
	check("reverted to 300")

	store := OpenMemStore()
	defer store.Close()
	b := newBatch()
	if err := b.putState(st); err != nil {
		t.Fatal(err)
	}
	if err := store.commit(b); err != nil {
		t.Fatal(err)
	}
	st.ClearJournal()
	disk, err := store.openState(st.Root())
	if err != nil {
		t.Fatal(err)
	}
	st = disk
	check("reopened from the store")
	set(100)
	check("changed after the reopen")
}

// TestSmallStateCostsWhatItHolds checks that a state of a few accounts (a
// simulated node's, a test's) costs little.
func TestSmallStateCostsWhatItHolds(t *testing.T) {
	const states = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	kept := make([]*State, states)
	for i := range kept {
		st := NewState()
		for a := range 10 {
			st.Credit(common.Address{byte(i), byte(a)}, big.NewInt(1))
		}
		st.Root()
		kept[i] = st
	}
	runtime.ReadMemStats(&after)
	if perState := (after.TotalAlloc - before.TotalAlloc) / states; perState > 64<<10 {
		t.Fatalf("a state of 10 accounts allocates %d bytes, want at most 64 KiB", perState)
	}
	runtime.KeepAlive(kept)
}
