package rpc_test

import (
	"context"
	"crypto/ecdsa"
	"strings"
	"testing"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rlp"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"
)

func dialGeth(t *testing.T, url string) (*ethclient.Client, *gethrpc.Client) {
	t.Helper()
	ec, err := ethclient.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ec.Close)
	return ec, ec.Client()
}

// TestUnlockedAccounts: a node given keys (a dev chain) lists them with
// eth_accounts and signs with them: eth_sendTransaction (EIP-1559 by
// default, legacy with gasPrice) lands in a block, eth_signTransaction's
// encoding is a valid transaction from the account, eth_sign is EIP-191.
func TestUnlockedAccounts(t *testing.T) {
	n := newTestNode(t, func(cfg *rpc.Config) { cfg.Keys = []*ecdsa.PrivateKey{ct.Key(1), ct.Key(0)} })
	ctx := context.Background()
	ec, c := dialGeth(t, n.url)
	var accs []common.Address
	if err := c.CallContext(ctx, &accs, "eth_accounts"); err != nil || len(accs) != 2 || accs[0] != ct.Addr(1) || accs[1] != ct.Addr(0) {
		t.Fatalf("eth_accounts: %v %v", accs, err)
	}
	to := common.Address{0xde, 0xad}
	var h1, h2 common.Hash
	if err := c.CallContext(ctx, &h1, "eth_sendTransaction", map[string]any{"from": ct.Addr(0), "to": to, "value": "0x1000"}); err != nil {
		t.Fatal(err)
	}
	if err := c.CallContext(ctx, &h2, "eth_sendTransaction", map[string]any{"from": ct.Addr(0), "to": to, "value": "0x1", "gasPrice": "0x77359400"}); err != nil {
		t.Fatal(err)
	}
	tx1, tx2 := n.pool.Get(h1), n.pool.Get(h2)
	if tx1 == nil || tx2 == nil {
		t.Fatal("sent transactions are not in the pool")
	}
	if tx1.Type() != types.DynamicFeeTxType || tx1.Nonce() != 0 || tx2.Type() != types.LegacyTxType || tx2.Nonce() != 1 || tx2.GasPrice().Int64() != 2e9 {
		t.Fatalf("filled in: type %d nonce %d, type %d nonce %d price %v", tx1.Type(), tx1.Nonce(), tx2.Type(), tx2.Nonce(), tx2.GasPrice())
	}
	n.mine(tx1, tx2)
	for _, h := range []common.Hash{h1, h2} {
		if r, err := ec.TransactionReceipt(ctx, h); err != nil || r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("receipt of %v: %v %v", h, r, err)
		}
	}
	if bal, err := ec.BalanceAt(ctx, to, nil); err != nil || bal.Int64() != 0x1001 {
		t.Fatalf("recipient's balance: %v %v", bal, err)
	}

	var raw hexutil.Bytes
	if err := c.CallContext(ctx, &raw, "eth_signTransaction", map[string]any{"from": ct.Addr(1), "to": to, "value": "0x2"}); err != nil {
		t.Fatal(err)
	}
	signed := new(types.Transaction)
	if err := signed.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	if from, err := types.Sender(n.g.Signer(), signed); err != nil || from != ct.Addr(1) || signed.Nonce() != 0 || signed.Gas() != 21000 {
		t.Fatalf("signed transaction: from %v (%v) nonce %d gas %d", from, err, signed.Nonce(), signed.Gas())
	}
	if err := ec.SendTransaction(ctx, signed); err != nil {
		t.Fatalf("the signed transaction is refused: %v", err)
	}

	msg := []byte("chaind")
	var sig hexutil.Bytes
	if err := c.CallContext(ctx, &sig, "eth_sign", ct.Addr(1), hexutil.Bytes(msg)); err != nil {
		t.Fatal(err)
	}
	if len(sig) != 65 || sig[64] < 27 {
		t.Fatalf("eth_sign: %x", sig)
	}
	sig[64] -= 27
	if pub, err := crypto.SigToPub(accounts.TextHash(msg), sig); err != nil || crypto.PubkeyToAddress(*pub) != ct.Addr(1) {
		t.Fatalf("eth_sign signature recovers to %v (%v)", pub, err)
	}

	// A key the node does not hold, and bad arguments.
	err := c.CallContext(ctx, nil, "eth_sendTransaction", map[string]any{"from": ct.Addr(2), "to": to})
	if err == nil || !strings.Contains(err.Error(), "unknown account") {
		t.Fatalf("a sender the node holds no key of: %v", err)
	}
	err = c.CallContext(ctx, nil, "eth_sendTransaction", map[string]any{"from": ct.Addr(0), "to": to, "gasPrice": "0x1", "maxFeePerGas": "0x1"})
	if err == nil || !strings.Contains(err.Error(), "both gasPrice and") {
		t.Fatalf("gasPrice with maxFeePerGas: %v", err)
	}
	err = c.CallContext(ctx, nil, "eth_sendTransaction", map[string]any{"from": ct.Addr(0), "to": to, "chainId": "0x1"})
	if err == nil || !strings.Contains(err.Error(), "chainId") {
		t.Fatalf("another chain's id: %v", err)
	}
	err = c.CallContext(ctx, nil, "eth_sendTransaction", map[string]any{"from": ct.Addr(0), "to": to, "data": "0x01"})
	if err == nil || !strings.Contains(err.Error(), "value transfers only") {
		t.Fatalf("calldata: %v", err)
	}
	if err := c.CallContext(ctx, nil, "eth_sendTransaction", map[string]any{"to": to}); err == nil || !strings.Contains(err.Error(), "from is required") {
		t.Fatalf("no sender: %v", err)
	}
}

// TestNoUnlockedAccounts: a node without keys (any real node) lists none
// and refuses to sign, saying why.
func TestNoUnlockedAccounts(t *testing.T) {
	n := newTestNode(t, nil)
	ctx := context.Background()
	_, c := dialGeth(t, n.url)
	var accs []common.Address
	if err := c.CallContext(ctx, &accs, "eth_accounts"); err != nil || accs == nil || len(accs) != 0 {
		t.Fatalf("eth_accounts: %v %v", accs, err)
	}
	for _, call := range []struct {
		method string
		args   []any
	}{
		{"eth_sendTransaction", []any{map[string]any{"from": ct.Addr(0), "to": common.Address{1}, "value": "0x1"}}},
		{"eth_signTransaction", []any{map[string]any{"from": ct.Addr(0), "to": common.Address{1}}}},
		{"eth_sign", []any{ct.Addr(0), "0x01"}},
	} {
		err := c.CallContext(ctx, nil, call.method, call.args...)
		want := call.method + " needs an unlocked account; this node holds none (start with --dev)"
		if err == nil || err.Error() != want {
			t.Fatalf("%s: %v, want %q", call.method, err, want)
		}
	}
	if n.pool.Len() != 0 {
		t.Fatal("a transaction reached the pool")
	}
}

// TestDebugRawReaders: debug_getRawBlock, debug_getRawHeader,
// debug_getRawReceipts and debug_getRawTransaction answer the consensus
// encodings, which decode to the block hash, its transactions and the
// header's receipts root; past the head they answer empty, and an unknown
// block hash is an error, as geth's.
func TestDebugRawReaders(t *testing.T) {
	n := newTestNode(t, nil)
	ctx := context.Background()
	_, c := dialGeth(t, n.url)
	txs := []*types.Transaction{transfer(n.g, 0, 0, 5), transfer(n.g, 1, 0, 6)}
	b := n.mine(txs...)
	n.mine()

	var raw hexutil.Bytes
	if err := c.CallContext(ctx, &raw, "debug_getRawBlock", hexutil.Uint64(b.Height())); err != nil {
		t.Fatal(err)
	}
	var block types.Block
	if err := rlp.DecodeBytes(raw, &block); err != nil {
		t.Fatal(err)
	}
	if block.Hash() != b.Hash() || len(block.Transactions()) != 2 || block.Transactions()[1].Hash() != txs[1].Hash() {
		t.Fatalf("raw block: hash %v, %d transactions", block.Hash(), len(block.Transactions()))
	}
	if types.DeriveSha(block.Transactions(), trie.NewStackTrie(nil)) != block.TxHash() {
		t.Fatal("raw block's transactions do not match its header")
	}
	for _, ref := range []any{b.Hash(), hexutil.Uint64(b.Height())} {
		if err := c.CallContext(ctx, &raw, "debug_getRawHeader", ref); err != nil {
			t.Fatal(err)
		}
		var h types.Header
		if err := rlp.DecodeBytes(raw, &h); err != nil || h.Hash() != b.Hash() {
			t.Fatalf("raw header by %v: %v %v", ref, h.Hash(), err)
		}
	}
	var rawReceipts []hexutil.Bytes
	if err := c.CallContext(ctx, &rawReceipts, "debug_getRawReceipts", b.Hash()); err != nil || len(rawReceipts) != 2 {
		t.Fatalf("raw receipts: %d %v", len(rawReceipts), err)
	}
	receipts := make(types.Receipts, len(rawReceipts))
	for i, r := range rawReceipts {
		receipts[i] = new(types.Receipt)
		if err := receipts[i].UnmarshalBinary(r); err != nil {
			t.Fatal(err)
		}
	}
	if types.DeriveSha(receipts, trie.NewStackTrie(nil)) != b.Header.ReceiptRoot || receipts[1].CumulativeGasUsed != 42000 {
		t.Fatal("raw receipts do not match the header's receipts root")
	}
	if err := c.CallContext(ctx, &raw, "debug_getRawTransaction", txs[0].Hash()); err != nil {
		t.Fatal(err)
	}
	if want, _ := txs[0].MarshalBinary(); string(raw) != string(want) {
		t.Fatalf("raw transaction: %x", raw)
	}

	// Past the head, unknown transactions: "0x" (geth's empty bytes), and
	// null receipts. An unknown block hash: an error.
	for _, call := range [][]any{{"debug_getRawBlock", "0x64"}, {"debug_getRawHeader", "0x64"}, {"debug_getRawReceipts", "0x64"}, {"debug_getRawTransaction", common.Hash{1}}} {
		var out any = "unset"
		want := any("0x")
		if call[0] == "debug_getRawReceipts" {
			want = nil
		}
		if err := c.CallContext(ctx, &out, call[0].(string), call[1]); err != nil || out != want {
			t.Fatalf("%v: %v %v, want %v", call, out, err, want)
		}
	}
	if err := c.CallContext(ctx, &raw, "debug_getRawBlock", common.Hash{1}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown block hash: %v", err)
	}
	// The debug namespace is served on a dev chain (DevAPIs), not by default.
	plain := newTestNode(t, func(cfg *rpc.Config) { cfg.APIs = rpc.DefaultAPIs })
	plain.callErr(-32601, "debug_getRawBlock", "latest")
}
