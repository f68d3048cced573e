package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/gorilla/websocket"
)

func wsURL(httpURL string) string { return "ws" + strings.TrimPrefix(httpURL, "http") }

// TestSubscribeNewHeadAcrossReorg: ethclient's SubscribeNewHead over the
// WebSocket sees every new head, and on a reorg every block of the new
// branch, oldest first.
func TestSubscribeNewHeadAcrossReorg(t *testing.T) {
	n := newTestNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, wsURL(n.url))
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	heads := make(chan *types.Header, 16)
	sub, err := ec.SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	// A rival chain from the same genesis, one block longer.
	rival := ct.NewChain(t, n.g, n.clk)
	a1, a2 := n.mine(), n.mine()
	var branch []*chain.Block
	for range 3 {
		branch = append(branch, ct.Mine(t, rival, n.clk, common.Address{0xbb}, nil, nil))
	}
	for _, b := range branch {
		if err := n.c.InsertBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	if n.c.Head().Hash() != branch[2].Hash() {
		t.Fatal("no reorg to the longer branch")
	}
	want := []*chain.Block{a1, a2, branch[0], branch[1], branch[2]}
	for i, w := range want {
		select {
		case h := <-heads:
			if h.Number.Uint64() != w.Height() || h.Coinbase != w.Header.Coinbase || h.ParentHash != w.Header.ParentHash || h.Root != w.Header.StateRoot {
				t.Fatalf("head %d: number %v coinbase %v, want block %d by %v", i, h.Number, h.Coinbase, w.Height(), w.Header.Coinbase)
			}
		case err := <-sub.Err():
			t.Fatalf("subscription ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("head %d never came", i)
		}
	}
	// Every HTTP method works over the WebSocket too.
	if id, err := ec.ChainID(ctx); err != nil || id.Uint64() != n.g.ChainID {
		t.Fatalf("eth_chainId over WebSocket: %v %v", id, err)
	}
	if bal, err := ec.BalanceAt(ctx, ct.Addr(0), nil); err != nil || bal.Cmp(ct.Ether(1000)) != 0 {
		t.Fatalf("eth_getBalance over WebSocket: %v %v", bal, err)
	}
}

// wsClient is a raw WebSocket client for the protocol-level tests.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialWS(t *testing.T, url string) *wsClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(wsURL(url), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) send(msg string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read() map[string]any {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, msg, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(msg, &m); err != nil {
		c.t.Fatalf("%q: %v", msg, err)
	}
	return m
}

// TestWebSocketSubscriptions: newPendingTransactions (hashes or whole
// transactions), a silent but valid logs subscription, batches,
// unsubscribing, and refusals: subscribing over HTTP, unknown kinds.
func TestWebSocketSubscriptions(t *testing.T) {
	n := newTestNode(t, nil)
	c := dialWS(t, n.url)
	c.send(`[{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newPendingTransactions"]},
		{"jsonrpc":"2.0","id":2,"method":"eth_subscribe","params":["newPendingTransactions", true]},
		{"jsonrpc":"2.0","id":3,"method":"eth_subscribe","params":["logs", {"address":"0x0000000000000000000000000000000000000001"}]}]`)
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var batch []struct {
		ID     int        `json:"id"`
		Result string     `json:"result"`
		Error  *rpc.Error `json:"error"`
	}
	if err := c.conn.ReadJSON(&batch); err != nil || len(batch) != 3 {
		t.Fatalf("batch of subscriptions: %v %v", batch, err)
	}
	ids := map[string]int{}
	for _, r := range batch {
		if r.Error != nil || !strings.HasPrefix(r.Result, "0x") {
			t.Fatalf("subscribe %d: %+v", r.ID, r.Error)
		}
		ids[r.Result] = r.ID
	}
	tx := transfer(n.g, 0, 0, 1)
	if err := n.pool.Add(tx); err != nil {
		t.Fatal(err)
	}
	got := map[int]any{}
	for range 2 {
		m := c.read()
		params := m["params"].(map[string]any)
		got[ids[params["subscription"].(string)]] = params["result"]
	}
	if got[1] != tx.Hash().Hex() {
		t.Fatalf("hash subscription: %v", got[1])
	}
	if full, _ := got[2].(map[string]any); full["hash"] != tx.Hash().Hex() || !strings.EqualFold(full["from"].(string), ct.Addr(0).Hex()) {
		t.Fatalf("full-transaction subscription: %v", got[2])
	}
	var first string
	for id, i := range ids {
		if i == 1 {
			first = id
		}
	}
	c.send(`{"jsonrpc":"2.0","id":9,"method":"eth_unsubscribe","params":["` + first + `"]}`)
	if m := c.read(); m["result"] != true {
		t.Fatalf("unsubscribe: %v", m)
	}
	c.send(`{"jsonrpc":"2.0","id":10,"method":"eth_subscribe","params":["syncing"]}`)
	if m := c.read(); m["error"] == nil {
		t.Fatalf("unknown subscription accepted: %v", m)
	}
	c.send(`{"jsonrpc":"2.0","id":11,"method":"eth_subscribe","params":["logs", {"topics":[1]}]}`)
	if m := c.read(); m["error"] == nil {
		t.Fatalf("bad logs criteria accepted: %v", m)
	}
	if err := n.pool.Add(transfer(n.g, 0, 1, 1)); err != nil {
		t.Fatal(err)
	}
	m := c.read() // only the full-transaction subscription is left
	if sub := m["params"].(map[string]any)["subscription"]; ids[sub.(string)] != 2 {
		t.Fatalf("notification for subscription %v after unsubscribing", sub)
	}
	n.callErr(-32601, "eth_subscribe", "newHeads") // over HTTP
}

// TestWebSocketBounds: the server holds a bounded number of connections,
// a connection a bounded number of subscriptions, and a client that stops reading is disconnected once its
// send queue is full, instead of the server buffering without bound.
func TestWebSocketBounds(t *testing.T) {
	n := newTestNode(t, func(cfg *rpc.Config) {
		cfg.Server.WS = rpc.WSConfig{MaxConns: 2, MaxSubscriptions: 3, SendQueue: 4}
	})
	c := dialWS(t, n.url)
	dialWS(t, n.url)
	if conn, resp, err := websocket.DefaultDialer.Dial(wsURL(n.url), nil); err == nil || resp == nil || resp.StatusCode != 503 {
		if conn != nil {
			conn.Close()
		}
		t.Fatalf("third connection with a limit of 2: %v %v", resp, err)
	}
	for i := range 3 {
		c.send(`{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}`)
		if m := c.read(); m["error"] != nil {
			t.Fatalf("subscription %d: %v", i, m)
		}
	}
	c.send(`{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}`)
	if m := c.read(); m["error"] == nil || !strings.Contains(m["error"].(map[string]any)["message"].(string), "too many subscriptions") {
		t.Fatalf("subscription 4: %v", m)
	}

	// A slow reader: it asks for 64 KB answers and never reads them. Once
	// the socket buffers and the queue of 4 are full the server must cut
	// it, and the client's writes fail; a server that buffered without
	// bound would keep reading its requests.
	srv := rpc.NewServerWith(rpc.ServerConfig{Logger: slog.New(slog.DiscardHandler), WS: rpc.WSConfig{SendQueue: 4, WriteTimeout: time.Hour}})
	answer := strings.Repeat("x", 64<<10)
	if err := srv.Register("big", func(context.Context) (string, error) { return answer, nil }); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	slow := dialWS(t, hs.URL)
	deadline := time.Now().Add(60 * time.Second) // a bound for the failure case, not a speed requirement
	for i := 0; time.Now().Before(deadline); i++ {
		slow.conn.SetWriteDeadline(deadline)
		if err := slow.conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"big"}`)); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				break
			}
			t.Logf("slow reader cut after %d requests (%v)", i, err)
			return
		}
	}
	t.Fatal("a client that never read its answers is still connected after a minute")
}

// TestNotifyBudget: an event sends one connection at most NotifyBudget
// notifications; its other subscriptions to the same kind take turns, so
// that over enough events each is served equally.
func TestNotifyBudget(t *testing.T) {
	n := newTestNode(t, func(cfg *rpc.Config) { cfg.Server.WS.NotifyBudget = 2 })
	c := dialWS(t, n.url)
	const subs, txs = 6, 9
	for i := range subs {
		c.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"eth_subscribe","params":["newPendingTransactions"]}`, i))
		if m := c.read(); m["error"] != nil {
			t.Fatalf("subscription %d: %v", i, m)
		}
	}
	for i := range txs {
		if err := n.pool.Add(transfer(n.g, 0, uint64(i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	// A call after the transactions: its answer comes after every
	// notification they caused.
	c.send(`{"jsonrpc":"2.0","id":99,"method":"eth_chainId"}`)
	perSub := map[string]int{}
	perTx := map[string]int{}
	for {
		m := c.read()
		if m["id"] != nil {
			break
		}
		p := m["params"].(map[string]any)
		perSub[p["subscription"].(string)]++
		perTx[p["result"].(string)]++
	}
	if len(perTx) != txs {
		t.Fatalf("notified of %d transactions, want %d", len(perTx), txs)
	}
	for tx, k := range perTx {
		if k != 2 {
			t.Fatalf("transaction %s notified %d times, want the budget of 2", tx, k)
		}
	}
	if len(perSub) != subs {
		t.Fatalf("%d of %d subscriptions served: %v", len(perSub), subs, perSub)
	}
	for sub, k := range perSub {
		if k != txs*2/subs {
			t.Fatalf("subscription %s sent %d notifications, want %d (they take turns): %v", sub, k, txs*2/subs, perSub)
		}
	}
}
