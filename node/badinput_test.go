package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

type rpcReply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *rpc.Error      `json:"error"`
}

func post(t *testing.T, url string, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func call(method string, params ...any) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	return b
}

func rawTx(t *testing.T, tx *types.Transaction) string {
	t.Helper()
	b, err := tx.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return hexutil.Encode(b)
}

// snapshot is what bad input must not change.
type snapshot struct {
	Head   json.RawMessage
	Pool   json.RawMessage
	Sender json.RawMessage
}

func takeSnapshot(t *testing.T, c *rpc.Client, sender common.Address) snapshot {
	t.Helper()
	var s snapshot
	ctx := context.Background()
	for _, e := range []struct {
		out    *json.RawMessage
		method string
		params []any
	}{{&s.Head, "chaind_head", nil}, {&s.Pool, "txpool_content", nil}, {&s.Sender, "eth_getBalance", []any{sender, "latest"}}} {
		if err := c.Call(ctx, e.out, e.method, e.params...); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestBadInputIsRefusedAndChangesNothing sends every kind of bad request;
// each gets the right JSON-RPC error with a clear message, and the head, the
// state and the mempool are exactly as before.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	g := fastGenesis(2)
	n := startNode(t, g)
	url := n.RPCURL()
	client := rpc.NewClient(url)
	ctx := context.Background()
	to := common.Address{0x42}
	chainID := big.NewInt(1337)

	// Mine a transfer so that nonce 0 is used, park a queued tx (nonce 50)
	// to try to replace, then freeze the chain by stopping the miner.
	first := ct.Transfer(g, 0, 0, to, big.NewInt(1))
	var hash common.Hash
	if err := client.Call(ctx, &hash, "eth_sendRawTransaction", rawTx(t, first)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r json.RawMessage
		if err := client.Call(ctx, &r, "eth_getTransactionReceipt", hash); err != nil {
			t.Fatal(err)
		}
		if string(r) != "null" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first transfer not mined")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := client.Call(ctx, nil, "chaind_minerStop"); err != nil {
		t.Fatal(err)
	}
	// A block sealed just before the stop may still land: wait until the
	// head holds still.
	for prev := ""; ; time.Sleep(200 * time.Millisecond) {
		var head json.RawMessage
		if err := client.Call(ctx, &head, "chaind_head"); err != nil {
			t.Fatal(err)
		}
		if string(head) == prev {
			break
		}
		prev = string(head)
	}
	parked := ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: chainID, Nonce: 50, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9), Gas: 21000, To: &to})
	if err := client.Call(ctx, nil, "eth_sendRawTransaction", rawTx(t, parked)); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, client, ct.Addr(0))

	badSig, err := ct.Transfer(g, 0, 1, to, big.NewInt(1)).WithSignature(g.Signer(), append(make([]byte, 64), 0))
	if err != nil {
		t.Fatal(err)
	}
	other := ct.Genesis(1)
	other.ChainID = 5
	oversized := append([]byte(`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["`), bytes.Repeat([]byte("a"), rpc.DefaultMaxBodyBytes)...)

	tests := []struct {
		name     string
		body     []byte
		status   int
		code     int
		contains string
	}{
		{"garbage body", []byte("\x00\x01garbage"), 200, rpc.CodeParseError, "parse error"},
		{"malformed JSON", []byte(`{"jsonrpc":"2.0","id":1,"method":`), 200, rpc.CodeParseError, "parse error"},
		{"not JSON-RPC 2.0", []byte(`{"jsonrpc":"1.0","id":1,"method":"eth_chainId"}`), 200, rpc.CodeInvalidRequest, `"jsonrpc" must be "2.0"`},
		{"unknown method", call("eth_mineAllTheThings"), 200, rpc.CodeMethodNotFound, "does not exist"},
		{"invalid params", call("eth_getBalance", "not-an-address", "latest"), 200, rpc.CodeInvalidParams, "argument 0"},
		{"missing params", call("eth_getBalance"), 200, rpc.CodeInvalidParams, "missing value"},
		{"too many params", call("eth_chainId", 1), 200, rpc.CodeInvalidParams, "too many arguments"},
		{"garbage transaction bytes", call("eth_sendRawTransaction", "0xdeadbeef"), 200, rpc.CodeInvalidParams, "cannot decode transaction"},
		{"bad signature", call("eth_sendRawTransaction", rawTx(t, badSig)), 200, rpc.CodeServerError, "invalid signature"},
		{"wrong chain id", call("eth_sendRawTransaction", rawTx(t, ct.Transfer(other, 0, 1, to, big.NewInt(1)))), 200, rpc.CodeServerError, "wrong chain id"},
		{"nonce too low", call("eth_sendRawTransaction", rawTx(t, ct.Transfer(g, 0, 0, to, big.NewInt(2)))), 200, rpc.CodeServerError, "nonce too low"},
		{"insufficient funds", call("eth_sendRawTransaction", rawTx(t, ct.Transfer(g, 7, 0, to, big.NewInt(1)))), 200, rpc.CodeServerError, "insufficient funds"},
		{"underpriced replacement", call("eth_sendRawTransaction", rawTx(t, ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: chainID, Nonce: 50,
			GasTipCap: big.NewInt(1.05e9), GasFeeCap: big.NewInt(10.5e9), Gas: 21000, To: &to}))), 200, rpc.CodeServerError, "replacement transaction underpriced"},
		{"contract creation", call("eth_sendRawTransaction", rawTx(t, ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: chainID, Nonce: 1,
			GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(3e9), Gas: 100000, Data: []byte{0x60, 0x00}}))), 200, rpc.CodeTxRejected, "contract creation not supported"},
		{"calldata", call("eth_sendRawTransaction", rawTx(t, ct.Sign(g, 0, &types.DynamicFeeTx{ChainID: chainID, Nonce: 1,
			GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(3e9), Gas: 30000, To: &to, Data: []byte{1, 2, 3}}))), 200, rpc.CodeTxRejected, "calldata not supported"},
		{"eth_call creating a contract", call("eth_call", map[string]any{"data": "0x6000"}, "latest"), 200, rpc.CodeReverted, "not supported"},
		{"eth_estimateGas with calldata", call("eth_estimateGas", map[string]any{"to": to, "data": "0x01"}), 200, rpc.CodeReverted, "execution reverted"},
		{"id of invalid UTF-8", []byte("{\"jsonrpc\":\"2.0\",\"id\":\"\xff\xfe\",\"method\":\"eth_chainId\"}"), 200, rpc.CodeInvalidRequest, "valid UTF-8"},
		{"too many fee percentiles", call("eth_feeHistory", 1, "latest", make([]float64, 101)), 200, rpc.CodeInvalidParams, "over the query limit 100"},
		{"oversized body", oversized, http.StatusRequestEntityTooLarge, rpc.CodeInvalidRequest, "too large"},
		{"empty batch", []byte(`[]`), 200, rpc.CodeInvalidRequest, "empty batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := post(t, url, tt.body)
			if status != tt.status {
				t.Errorf("HTTP status %d, want %d", status, tt.status)
			}
			var r rpcReply
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("reply is not a JSON-RPC response: %q", out)
			}
			if r.Error == nil || r.Error.Code != tt.code || !strings.Contains(r.Error.Message, tt.contains) {
				t.Fatalf("got %s, want code %d with %q", out, tt.code, tt.contains)
			}
		})
	}

	t.Run("batch mixing valid and invalid calls", func(t *testing.T) {
		batch := `[` + string(call("eth_chainId")) + `,` +
			`{"jsonrpc":"2.0","id":2,"method":"nope"},` +
			`{"jsonrpc":"2.0","id":3,"method":"eth_getBalance","params":["0xzz"]},` +
			`{"jsonrpc":"2.0","method":"eth_chainId"},` + // a notification: no reply
			`{"jsonrpc":"2.0","id":"four","method":"eth_blockNumber"},` +
			`17]`
		_, out := post(t, url, []byte(batch))
		var replies []rpcReply
		if err := json.Unmarshal(out, &replies); err != nil {
			t.Fatalf("batch reply %q: %v", out, err)
		}
		if len(replies) != 5 {
			t.Fatalf("%d replies, want 5: %s", len(replies), out)
		}
		if string(replies[0].Result) != `"0x539"` || replies[0].Error != nil {
			t.Errorf("valid call in batch: %s", out)
		}
		if replies[1].Error == nil || replies[1].Error.Code != rpc.CodeMethodNotFound {
			t.Errorf("unknown method in batch: %s", out)
		}
		if replies[2].Error == nil || replies[2].Error.Code != rpc.CodeInvalidParams {
			t.Errorf("invalid params in batch: %s", out)
		}
		if string(replies[3].ID) != `"four"` || replies[3].Error != nil {
			t.Errorf("string id in batch: %s", out)
		}
		if replies[4].Error == nil || replies[4].Error.Code != rpc.CodeInvalidRequest {
			t.Errorf("non-object in batch: %s", out)
		}
	})

	if after := takeSnapshot(t, client, ct.Addr(0)); string(after.Head) != string(before.Head) ||
		string(after.Pool) != string(before.Pool) || string(after.Sender) != string(before.Sender) {
		t.Fatalf("bad input changed the node:\nbefore %s\nafter  %s", before, after)
	}
}
