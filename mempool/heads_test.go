package mempool_test

import (
	"errors"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/ethereum/go-ethereum/common"
)

// TestAdmissionFollowsTheHead: the pool reads a sender's account once per
// head, and the Reset that follows a block makes it read again: a second
// transfer with a nonce the block used is refused, and a transfer paid with
// what the block spent is refused for funds.
func TestAdmissionFollowsTheHead(t *testing.T) {
	g, c, clk, pool := setup(t, 1, mempool.Config{})
	to := common.Address{0x10}
	if err := pool.Add(ct.Transfer(g, 0, 0, to, ct.Ether(600))); err != nil {
		t.Fatal(err)
	}
	ct.Mine(t, c, clk, common.Address{0xa}, pool.Pending(), nil)
	if err := pool.Add(ct.Transfer(g, 0, 0, to, ct.Ether(1))); !errors.Is(err, chain.ErrNonceTooLow) {
		t.Fatalf("nonce 0 again after the block: %v, want %v", err, chain.ErrNonceTooLow)
	}
	if err := pool.Add(ct.Transfer(g, 0, 1, to, ct.Ether(600))); !errors.Is(err, chain.ErrInsufficientFunds) {
		t.Fatalf("600 ether of the 400 left: %v, want %v", err, chain.ErrInsufficientFunds)
	}
	if err := pool.Add(ct.Transfer(g, 0, 1, to, ct.Ether(300))); err != nil {
		t.Fatal(err)
	}
}
