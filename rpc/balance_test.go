package rpc_test

import (
	"testing"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestBalanceAtEveryBlockRef: eth_getBalance and eth_getTransactionCount
// at a block number, a block hash (EIP-1898 and bare), "earliest" and
// "latest" answer the account after that block, and a block above the head
// or an unknown hash is "block not found": the header-only lookup answers
// as the whole block's did.
func TestBalanceAtEveryBlockRef(t *testing.T) {
	n := newTestNode(t, nil)
	addr := common.Address{0xde, 0xad}
	var hashes []common.Hash
	for i := range 3 {
		hashes = append(hashes, n.mine(transfer(n.g, 0, uint64(i), int64(i+1))).Hash())
	}
	for height := range uint64(4) {
		want, err := n.c.AccountAt(addr, height)
		if err != nil {
			t.Fatal(err)
		}
		refs := []any{hexutil.EncodeUint64(height)}
		if height > 0 {
			h := hashes[height-1]
			refs = append(refs, map[string]any{"blockHash": h}, h.Hex())
		} else {
			refs = append(refs, "earliest")
		}
		if height == 3 {
			refs = append(refs, "latest")
		}
		for _, ref := range refs {
			var bal hexutil.Big
			n.call(&bal, "eth_getBalance", addr, ref)
			if bal.ToInt().Cmp(want.Balance) != 0 {
				t.Fatalf("balance at %v: %v, want %v", ref, bal.ToInt(), want.Balance)
			}
			var nonce hexutil.Uint64
			if n.call(&nonce, "eth_getTransactionCount", ct.Addr(0), ref); uint64(nonce) != height {
				t.Fatalf("sender's nonce at %v: %d, want %d", ref, nonce, height)
			}
		}
	}
	n.callErr(rpc.CodeServerError, "eth_getBalance", addr, "0x4")
	n.callErr(rpc.CodeServerError, "eth_getBalance", addr, map[string]any{"blockHash": common.Hash{1}})
}
