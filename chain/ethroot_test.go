package chain_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// TestBlockStateRootsAreEthereums: every block of a chain of transfers
// (to funded accounts, to new ones, fees to a coinbase) carries the state
// root go-ethereum computes for the accounts the chain holds after it.
func TestBlockStateRootsAreEthereums(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 4))
	g := ct.Genesis(4)
	clock := ct.NewClock(ct.GenesisTime)
	c := ct.NewChain(t, g, clock)
	addrs := []common.Address{ct.Addr(0), ct.Addr(1), ct.Addr(2), ct.Addr(3), {0xc0}}
	check := func(b *chain.Block) {
		t.Helper()
		accts := map[common.Address]chain.Account{}
		for _, a := range addrs {
			acc, err := c.AccountAt(a, b.Height())
			if err != nil {
				t.Fatal(err)
			}
			if acc.Nonce != 0 || acc.Balance.Sign() != 0 {
				accts[a] = acc
			}
		}
		if want := chain.EthereumRoot(t, accts); b.Header.StateRoot != want {
			t.Fatalf("block %d: state root %x, go-ethereum's %x", b.Height(), b.Header.StateRoot, want)
		}
	}
	genesis, err := c.BlockByHeight(0)
	if err != nil {
		t.Fatal(err)
	}
	check(genesis)
	nonces := make([]uint64, 4)
	for range 10 {
		var txs []*types.Transaction
		for range 1 + r.IntN(4) {
			from := r.IntN(4)
			to := addrs[r.IntN(len(addrs))]
			if r.IntN(2) == 0 {
				to = common.Address{0x10, byte(len(addrs))}
				addrs = append(addrs, to)
			}
			txs = append(txs, ct.Transfer(g, from, nonces[from], to, big.NewInt(int64(1+r.IntN(1e9)))))
			nonces[from]++
		}
		check(ct.Mine(t, c, clock, common.Address{0xc0}, txs, nil))
	}
}
