package rpc_test

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
)

// TestCallAndEstimateOnCodelessAccounts: every chaind account is code-less,
// so eth_call answers "0x" and a transfer's estimate is 21000, as geth
// answers for such accounts; what would need code is refused with a text
// the clients read as a failed call.
func TestCallAndEstimateOnCodelessAccounts(t *testing.T) {
	n := newTestNode(t, nil)
	ec, err := ethclient.Dial(n.url)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	ctx := context.Background()
	to := common.Address{0xde, 0xad}
	from := ct.Addr(0)
	msg := ethereum.CallMsg{From: from, To: &to, Value: big.NewInt(1e18)}
	out, err := ec.CallContract(ctx, msg, nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("eth_call of a transfer: %x, %v; want empty output", out, err)
	}
	msg.Data = []byte{0xa9, 0x05, 0x9c, 0xbb} // a call with calldata to a code-less account returns nothing
	if out, err = ec.CallContract(ctx, msg, big.NewInt(0)); err != nil || len(out) != 0 {
		t.Fatalf("eth_call with calldata: %x, %v; want empty output", out, err)
	}
	msg.Data = nil
	if gas, err := ec.EstimateGas(ctx, msg); err != nil || gas != chain21000 {
		t.Fatalf("estimate of a transfer: %d, %v", gas, err)
	}
	var raw string
	n.call(&raw, "eth_call", map[string]any{"to": to, "data": "0x"}, "latest") // web3.js sends this before every transfer
	if raw != "0x" {
		t.Fatalf(`eth_call with data "0x": %q`, raw)
	}

	e := n.callErr(rpc.CodeReverted, "eth_estimateGas", map[string]any{"from": from, "to": to, "data": "0x01"})
	if !strings.HasPrefix(e.Message, "execution reverted") || kindOf(e) != rpc.KindUnsupported {
		t.Fatalf("estimate with calldata: %+v", e)
	}
	n.callErr(rpc.CodeReverted, "eth_estimateGas", map[string]any{"from": from})
	n.callErr(rpc.CodeReverted, "eth_call", map[string]any{"data": "0x6000"}, "latest")
	e = n.callErr(rpc.CodeServerError, "eth_estimateGas", map[string]any{"from": from, "to": to, "value": hexutil.EncodeBig(ct.Ether(1001))})
	if !strings.Contains(e.Message, "insufficient funds") || kindOf(e) != "insufficient funds for gas * price + value" {
		t.Fatalf("estimate above the balance: %+v", e)
	}
	n.callErr(rpc.CodeServerError, "eth_call", map[string]any{"to": to}, "0x99") // no such block
}

const chain21000 = 21000

func kindOf(e *rpc.Error) string {
	m, _ := e.Data.(map[string]any)
	s, _ := m["kind"].(string)
	return s
}

// TestBlockIndexMethods reads a block's transactions, receipts and header
// by number, by hash and by index.
func TestBlockIndexMethods(t *testing.T) {
	n := newTestNode(t, nil)
	txs := []*types.Transaction{transfer(n.g, 0, 0, 5), transfer(n.g, 1, 0, 7)}
	b := n.mine(txs...)
	num, hash := hexutil.Uint64(b.Height()), b.Hash()

	var count *hexutil.Uint
	n.call(&count, "eth_getBlockTransactionCountByNumber", num)
	if count == nil || *count != 2 {
		t.Fatalf("count by number: %v", count)
	}
	n.call(&count, "eth_getBlockTransactionCountByHash", hash)
	if count == nil || *count != 2 {
		t.Fatalf("count by hash: %v", count)
	}
	n.call(&count, "eth_getBlockTransactionCountByNumber", "0x99")
	if count != nil {
		t.Fatalf("count of a missing block: %v, want null", *count)
	}
	var tx map[string]any
	n.call(&tx, "eth_getTransactionByBlockNumberAndIndex", num, "0x1")
	if tx["hash"] != txs[1].Hash().Hex() || tx["blockHash"] != hash.Hex() || tx["transactionIndex"] != "0x1" {
		t.Fatalf("tx by number and index: %v", tx)
	}
	n.call(&tx, "eth_getTransactionByBlockHashAndIndex", hash, "0x0")
	if tx["hash"] != txs[0].Hash().Hex() {
		t.Fatalf("tx by hash and index: %v", tx)
	}
	tx = map[string]any{"stale": true}
	n.call(&tx, "eth_getTransactionByBlockHashAndIndex", hash, "0x2")
	if tx != nil {
		t.Fatalf("tx past the end: %v, want null", tx)
	}
	n.call(&count, "eth_getUncleCountByBlockNumber", num)
	if count == nil || *count != 0 {
		t.Fatalf("uncle count: %v", count)
	}
	n.call(&count, "eth_getUncleCountByBlockHash", hash)
	if count == nil || *count != 0 {
		t.Fatalf("uncle count by hash: %v", count)
	}
	var storage hexutil.Bytes
	n.call(&storage, "eth_getStorageAt", ct.Addr(0), "0x0", "latest")
	if len(storage) != 32 || new(big.Int).SetBytes(storage).Sign() != 0 {
		t.Fatalf("storage: %x", storage)
	}
	n.callErr(rpc.CodeInvalidParams, "eth_getStorageAt", ct.Addr(0), "0x"+strings.Repeat("1", 65), "latest")

	var raw hexutil.Bytes
	n.call(&raw, "eth_getRawTransactionByHash", txs[1].Hash())
	if enc, _ := txs[1].MarshalBinary(); string(raw) != string(enc) {
		t.Fatalf("raw transaction: %x", raw)
	}
	var header map[string]any
	n.call(&header, "eth_getHeaderByNumber", num)
	if header["hash"] != hash.Hex() || header["transactions"] != nil || header["parentHash"] != b.Header.ParentHash.Hex() {
		t.Fatalf("header: %v", header)
	}
	var receipts []map[string]any
	n.call(&receipts, "eth_getBlockReceipts", num)
	if len(receipts) != 2 || receipts[1]["transactionHash"] != txs[1].Hash().Hex() || receipts[1]["cumulativeGasUsed"] != "0xa410" {
		t.Fatalf("block receipts: %v", receipts)
	}
	n.call(&receipts, "eth_getBlockReceipts", hash)
	if len(receipts) != 2 {
		t.Fatalf("block receipts by hash: %v", receipts)
	}

	var modules map[string]string
	n.call(&modules, "rpc_modules")
	for _, ns := range rpc.DevAPIs {
		if modules[ns] != "1.0" {
			t.Fatalf("rpc_modules %v lacks %s", modules, ns)
		}
	}
}

// TestTxpoolViews: txpool_inspect and txpool_contentFrom show the pool as geth does.
func TestTxpoolViews(t *testing.T) {
	n := newTestNode(t, nil)
	pending, queued := transfer(n.g, 0, 0, 5), transfer(n.g, 0, 2, 6)
	for _, tx := range []*types.Transaction{pending, queued, transfer(n.g, 1, 0, 9)} {
		if err := n.pool.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	var inspect map[string]map[common.Address]map[string]string
	n.call(&inspect, "txpool_inspect")
	want := "0x" + strings.Repeat("0", 0) + common.Address{0xde, 0xad}.Hex()[2:] + ": 5 wei + 21000 gas × 3000000000 wei"
	if got := inspect["pending"][ct.Addr(0)]["0"]; got != want {
		t.Fatalf("inspect: %q, want %q", got, want)
	}
	if _, ok := inspect["queued"][ct.Addr(0)]["2"]; !ok || len(inspect["pending"]) != 2 {
		t.Fatalf("inspect: %v", inspect)
	}
	var from map[string]map[string]map[string]any
	n.call(&from, "txpool_contentFrom", ct.Addr(0))
	if from["pending"]["0"]["hash"] != pending.Hash().Hex() || from["queued"]["2"]["hash"] != queued.Hash().Hex() || len(from["pending"]) != 1 {
		t.Fatalf("contentFrom: %v", from)
	}
	n.call(&from, "txpool_contentFrom", ct.Addr(2))
	if from["pending"] == nil || len(from["pending"]) != 0 || len(from["queued"]) != 0 {
		t.Fatalf("contentFrom of an idle sender: %v", from)
	}
}

// TestFeeHistoryCountForms: the block count as a JSON number, a decimal
// string or hex, as geth takes it; more than 1024 blocks is cut to 1024,
// more than 100 percentiles refused (geth's limits).
func TestFeeHistoryCountForms(t *testing.T) {
	n := newTestNode(t, nil)
	for range 5 {
		n.mine()
	}
	for _, count := range []any{3, "3", "0x3"} {
		var fh struct {
			Oldest hexutil.Uint64 `json:"oldestBlock"`
			Ratio  []float64      `json:"gasUsedRatio"`
		}
		n.call(&fh, "eth_feeHistory", count, "latest", []float64{})
		if fh.Oldest != 3 || len(fh.Ratio) != 3 {
			t.Fatalf("count %#v: %+v", count, fh)
		}
	}
	var fh struct {
		Oldest hexutil.Uint64 `json:"oldestBlock"`
	}
	n.call(&fh, "eth_feeHistory", 5000, "latest", nil)
	if fh.Oldest != 0 {
		t.Fatalf("long span: %+v", fh)
	}
	n.callErr(rpc.CodeInvalidParams, "eth_feeHistory", "0x1", "latest", make([]float64, 101))
	n.callErr(rpc.CodeInvalidParams, "eth_feeHistory", "x", "latest", nil)
	n.callErr(rpc.CodeInvalidParams, "eth_feeHistory", 0, "latest", nil)
}

// TestGetLogsValidatesParameters: no log exists on chaind, but the criteria
// are checked as geth checks them.
func TestGetLogsValidatesParameters(t *testing.T) {
	n := newTestNode(t, nil)
	b := n.mine()
	n.mine()
	topic := common.Hash{1}.Hex()
	for _, q := range []map[string]any{
		{},
		{"fromBlock": "0x0", "toBlock": "latest", "address": ct.Addr(0)},
		{"blockHash": b.Hash(), "address": []common.Address{ct.Addr(0), ct.Addr(1)}},
		{"topics": []any{topic, nil, []any{topic, nil}}},
	} {
		var logs []json.RawMessage
		n.call(&logs, "eth_getLogs", q)
		if logs == nil || len(logs) != 0 {
			t.Fatalf("eth_getLogs %v: %v, want []", q, logs)
		}
	}
	for name, q := range map[string]map[string]any{
		"hash and range":  {"blockHash": b.Hash(), "fromBlock": "0x1"},
		"reversed range":  {"fromBlock": "0x2", "toBlock": "0x1"},
		"five topics":     {"topics": []any{topic, topic, topic, topic, topic}},
		"bad address":     {"address": "0x12"},
		"bad topic":       {"topics": []any{"0x12"}},
		"bad block tag":   {"fromBlock": "soon"},
		"unknown address": {"address": []any{1}},
	} {
		if err := n.cli.Call(context.Background(), nil, "eth_getLogs", q); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	e := n.callErr(rpc.CodeServerError, "eth_getLogs", map[string]any{"blockHash": common.Hash{9}})
	if e.Message != "unknown block" {
		t.Fatalf("unknown block hash: %+v", e)
	}
}
