package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
)

// testNode serves a real chain (in-memory LevelDB, the accept-all test
// engine) and mempool over a real HTTP server on loopback.
type testNode struct {
	t    *testing.T
	g    *chain.Genesis
	clk  *clock.Sim // the chain's time
	sim  *clock.Sim // the RPC server's time (filter expiry, Observe)
	c    *chain.Chain
	pool *mempool.Pool
	srv  *rpc.Server
	url  string
	cli  *rpc.Client
}

var coinbaseA = common.Address{0xaa}

func newTestNode(t *testing.T, edit func(*rpc.Config)) *testNode {
	t.Helper()
	n := &testNode{t: t, g: ct.Genesis(3), clk: ct.NewClock(ct.GenesisTime), sim: clock.NewSim(time.Unix(1_700_000_000, 0))}
	n.c = ct.NewChain(t, n.g, n.clk)
	n.pool = mempool.New(mempool.Config{Chain: n.c})
	n.c.Subscribe(n.pool.Reset)
	cfg := rpc.Config{Chain: n.c, Pool: n.pool, Version: "test", APIs: rpc.DevAPIs,
		Server: rpc.ServerConfig{Logger: slog.New(slog.DiscardHandler), Clock: n.sim}}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := rpc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.srv = srv
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	n.url = hs.URL
	n.cli = rpc.NewClient(hs.URL)
	return n
}

func (n *testNode) mine(txs ...*types.Transaction) *chain.Block {
	return ct.Mine(n.t, n.c, n.clk, coinbaseA, txs, nil)
}

// call makes one call and fails the test on an error.
func (n *testNode) call(result any, method string, params ...any) {
	n.t.Helper()
	if err := n.cli.Call(context.Background(), result, method, params...); err != nil {
		n.t.Fatalf("%s: %v", method, err)
	}
}

// callErr makes one call that must fail with code, and returns the error.
func (n *testNode) callErr(code int, method string, params ...any) *rpc.Error {
	n.t.Helper()
	err := n.cli.Call(context.Background(), nil, method, params...)
	e, ok := err.(*rpc.Error)
	if !ok || e.Code != code {
		n.t.Fatalf("%s%v: got %v, want an error with code %d", method, params, err, code)
	}
	return e
}

// post sends body with the given extra headers and returns the status, the
// response headers and the body.
func (n *testNode) post(method, body string, headers map[string]string) (int, http.Header, []byte) {
	n.t.Helper()
	req, err := http.NewRequest(method, n.url, bytes.NewBufferString(body))
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out
}

type reply struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *rpc.Error      `json:"error"`
}

func transfer(g *chain.Genesis, from int, nonce uint64, value int64) *types.Transaction {
	return ct.Transfer(g, from, nonce, common.Address{0xde, 0xad}, big.NewInt(value))
}

// sendRawErr sends tx with eth_sendRawTransaction; it must be refused with code.
func (n *testNode) sendRawErr(code int, tx *types.Transaction) *rpc.Error {
	n.t.Helper()
	enc, err := tx.MarshalBinary()
	if err != nil {
		n.t.Fatal(err)
	}
	return n.callErr(code, "eth_sendRawTransaction", hexutil.Bytes(enc))
}
