package rpc_test

import (
	"testing"
	"time"

	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
)

// TestFilters: block and pending-transaction filters collect hashes between
// polls, log filters stay empty, and a filter not polled for five minutes
// (on the server's simulated clock) is gone; the number of filters is bounded.
func TestFilters(t *testing.T) {
	n := newTestNode(t, nil)
	var blocks, txs, fullTxs, logs string
	n.call(&blocks, "eth_newBlockFilter")
	n.call(&txs, "eth_newPendingTransactionFilter")
	n.call(&fullTxs, "eth_newPendingTransactionFilter", true)
	n.call(&logs, "eth_newFilter", map[string]any{"fromBlock": "0x0", "topics": []any{nil}})

	tx := transfer(n.g, 0, 0, 1)
	if err := n.pool.Add(tx); err != nil {
		t.Fatal(err)
	}
	var full []map[string]any
	n.call(&full, "eth_getFilterChanges", fullTxs)
	if len(full) != 1 || full[0]["hash"] != tx.Hash().Hex() {
		t.Fatalf("full pending filter: %v", full)
	}
	b1 := n.mine(tx)
	b2 := n.mine()
	n.callErr(rpc.CodeInvalidParams, "eth_newFilter", map[string]any{"fromBlock": "0x2", "toBlock": "0x1"}) // checked as eth_getLogs
	var hashes []common.Hash
	n.call(&hashes, "eth_getFilterChanges", blocks)
	if len(hashes) != 2 || hashes[0] != b1.Hash() || hashes[1] != b2.Hash() {
		t.Fatalf("block filter: %v, want %v %v", hashes, b1.Hash(), b2.Hash())
	}
	n.call(&hashes, "eth_getFilterChanges", blocks)
	if len(hashes) != 0 {
		t.Fatalf("second poll: %v, want nothing new", hashes)
	}
	n.call(&hashes, "eth_getFilterChanges", txs)
	if len(hashes) != 1 || hashes[0] != tx.Hash() {
		t.Fatalf("pending filter: %v", hashes)
	}
	var none []any
	n.call(&none, "eth_getFilterChanges", logs)
	n.call(&none, "eth_getFilterLogs", logs)
	if none == nil || len(none) != 0 {
		t.Fatalf("log filter: %v", none)
	}
	n.callErr(rpc.CodeServerError, "eth_getFilterLogs", blocks) // not a log filter

	var ok bool
	n.call(&ok, "eth_uninstallFilter", txs)
	if !ok {
		t.Fatal("uninstall: false")
	}
	n.call(&ok, "eth_uninstallFilter", txs)
	if ok {
		t.Fatal("second uninstall: true")
	}
	n.callErr(rpc.CodeServerError, "eth_getFilterChanges", txs)

	n.sim.Advance(4 * time.Minute)
	n.call(&hashes, "eth_getFilterChanges", blocks) // polled: kept
	n.sim.Advance(4 * time.Minute)
	n.call(&hashes, "eth_getFilterChanges", blocks)
	n.sim.Advance(5 * time.Minute)
	e := n.callErr(rpc.CodeServerError, "eth_getFilterChanges", blocks)
	if e.Message != "filter not found" {
		t.Fatalf("expired filter: %+v", e)
	}
	n.callErr(rpc.CodeServerError, "eth_getFilterChanges", logs)

	for i := range 1000 {
		if err := n.cli.Call(t.Context(), nil, "eth_newBlockFilter"); err != nil {
			t.Fatalf("filter %d: %v", i, err)
		}
	}
	if e := n.callErr(rpc.CodeServerError, "eth_newBlockFilter"); kindOf(e) != rpc.KindLimit {
		t.Fatalf("filter 1001: %+v", e)
	}
	n.sim.Advance(5 * time.Minute) // all expire
	n.call(&blocks, "eth_newBlockFilter")
}
