package rpc

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/mempool"
)

// FuzzBlockRef decodes block parameters: tags, quantities, hashes and the
// EIP-1898 object form.
func FuzzBlockRef(f *testing.F) {
	for _, s := range []string{`"latest"`, `"pending"`, `"0x10"`, `"0x0"`, `"0x"`, `"0x01"`, `16`,
		`{"blockNumber":"0x1"}`, `{"blockHash":"0x` + string(bytes.Repeat([]byte("ab"), 32)) + `"}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r BlockRef
		r.UnmarshalJSON(data)
	})
}

// FuzzRequest posts hostile request bodies to the full API on a real
// chain: every response is valid JSON.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}`,
		`{"jsonrpc":"2.0","id":"a","method":"eth_getBalance","params":["0x0000000000000000000000000000000000000001","latest"]}`,
		`{"jsonrpc":"2.0","id":2,"method":"eth_getBlockByNumber","params":["0x0",true]}`,
		`{"jsonrpc":"2.0","id":3,"method":"eth_getTransactionCount","params":["0x0000000000000000000000000000000000000001","0x0"]}`,
		`{"jsonrpc":"2.0","id":4,"method":"eth_feeHistory","params":["0x4","latest",[10,50]]}`,
		`{"jsonrpc":"2.0","id":5,"method":"eth_sendRawTransaction","params":["0x02c0"]}`,
		`[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","method":"net_version"}]`,
		`[]`, `{`, `{"jsonrpc":"2.0","id":{},"method":"eth_chainId"}`,
	} {
		f.Add([]byte(s))
	}
	g := ct.Genesis(1)
	c := ct.NewChain(f, g, ct.NewClock(ct.GenesisTime))
	srv, err := New(Config{Chain: c, Pool: mempool.New(mempool.Config{Chain: c}), Version: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if out := bytes.TrimSpace(rec.Body.Bytes()); rec.Code == http.StatusOK && len(out) > 0 && !json.Valid(out) {
			t.Fatalf("request %q: invalid JSON response %q", body, out)
		}
	})
}
