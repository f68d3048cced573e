package rpc_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
)

const chainIDCall = `{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}`

// TestHostAndOriginChecks: a request naming a foreign host (DNS rebinding)
// or coming from a foreign web page is refused before any method runs; an
// allowed origin gets CORS headers and its preflight is answered.
func TestHostAndOriginChecks(t *testing.T) {
	n := newTestNode(t, func(cfg *rpc.Config) { cfg.Server.CORSDomains = []string{"http://app.example"} })
	stop := `{"jsonrpc":"2.0","id":1,"method":"chaind_minerStop"}`
	for _, tt := range []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"IP address", nil, 200},
		{"localhost", map[string]string{"Host": "localhost:8545"}, 200},
		{"rebinding host", map[string]string{"Host": "attacker.example:8545"}, 403},
		{"foreign origin", map[string]string{"Origin": "http://attacker.example"}, 403},
		{"allowed origin", map[string]string{"Origin": "http://app.example"}, 200},
		{"a page the node served (same origin)", map[string]string{"Host": "localhost:8545", "Origin": "http://localhost:8545"}, 200},
		{"rebinding host as its own origin", map[string]string{"Host": "attacker.example:8545", "Origin": "http://attacker.example:8545"}, 403},
	} {
		status, h, body := n.post("POST", stop, tt.headers)
		if status != tt.status {
			t.Errorf("%s: status %d (%s), want %d", tt.name, status, body, tt.status)
		}
		if allow := h.Get("Access-Control-Allow-Origin"); (tt.name == "allowed origin") != (allow == "http://app.example") {
			t.Errorf("%s: Access-Control-Allow-Origin %q", tt.name, allow)
		}
	}
	status, h, _ := n.post("OPTIONS", "", map[string]string{"Origin": "http://app.example",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
	if status != 204 || h.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", status, h)
	}
	if status, _, _ := n.post("OPTIONS", "", map[string]string{"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"}); status != 403 {
		t.Fatalf("preflight from a foreign origin: %d", status)
	}
	wild := newTestNode(t, func(cfg *rpc.Config) { cfg.Server.VHosts = []string{"*"} })
	if status, _, _ := wild.post("POST", chainIDCall, map[string]string{"Host": "node.example"}); status != 200 {
		t.Fatalf(`--rpc.vhosts "*": %d`, status)
	}
}

// TestAPINamespaces: control methods are off unless their namespace is
// enabled; an unknown namespace is a configuration error.
func TestAPINamespaces(t *testing.T) {
	n := newTestNode(t, func(cfg *rpc.Config) { cfg.APIs = nil })
	for _, m := range []string{"chaind_minerStop", "chaind_minerStart", "admin_addPeer", "admin_peers"} {
		n.callErr(rpc.CodeMethodNotFound, m)
	}
	var head map[string]any
	n.call(&head, "chaind_head")
	var modules map[string]string
	n.call(&modules, "rpc_modules")
	if _, ok := modules["admin"]; ok || len(modules) != len(rpc.DefaultAPIs) {
		t.Fatalf("rpc_modules: %v", modules)
	}
	onlyEth := newTestNode(t, func(cfg *rpc.Config) { cfg.APIs = []string{"eth"} })
	onlyEth.callErr(rpc.CodeMethodNotFound, "net_version")
	if _, err := rpc.New(rpc.Config{Chain: n.c, Pool: n.pool, APIs: []string{"eth", "personal"}}); err == nil {
		t.Fatal("unknown namespace accepted")
	}
}

// TestRequestLimits: ids that are not valid JSON, answers beyond the size
// cap (alone and in a batch), error kinds in error.data, and the Observe
// hook seeing every call.
func TestRequestLimits(t *testing.T) {
	var mu sync.Mutex
	observed := map[string]int{}
	var failed []string
	n := newTestNode(t, func(cfg *rpc.Config) {
		cfg.Server.MaxResponseBytes = 2000
		cfg.Server.Observe = func(method string, d time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			observed[method]++
			if err != nil {
				failed = append(failed, method)
			}
		}
	})
	for range 40 {
		n.mine()
	}
	_, _, body := n.post("POST", "{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\x28\",\"method\":\"eth_chainId\"}", nil)
	var r reply
	if err := json.Unmarshal(body, &r); err != nil || r.Error == nil || r.Error.Code != rpc.CodeInvalidRequest || string(r.ID) != "null" {
		t.Fatalf("invalid UTF-8 id: %q", body)
	}
	// One answer over the cap: 40 full blocks' fee history with percentiles.
	e := n.callErr(rpc.CodeServerError, "eth_feeHistory", 40, "latest", []float64{10, 20, 30, 40, 50, 60, 70, 80, 90})
	if kindOf(e) != rpc.KindLimit {
		t.Fatalf("large answer: %+v", e)
	}
	// A batch whose answers together pass the cap: the later ones fail.
	var batch []string
	for range 10 {
		batch = append(batch, `{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["latest",false]}`)
	}
	_, _, body = n.post("POST", "["+strings.Join(batch, ",")+"]", nil)
	var replies []reply
	if err := json.Unmarshal(body, &replies); err != nil || len(replies) != 10 {
		t.Fatalf("batch: %v %q", err, body)
	}
	if replies[0].Error != nil || replies[9].Error == nil || len(body) > 2*2000 {
		t.Fatalf("batch over the size cap: first %+v, last %+v, %d bytes", replies[0].Error, replies[9].Error, len(body))
	}
	e = n.callErr(rpc.CodeInvalidParams, "eth_getBalance", "0xzz")
	if kindOf(e) != rpc.KindInvalidParams {
		t.Fatalf("error.data of invalid params: %+v", e)
	}
	e = n.sendRawErr(rpc.CodeServerError, ct.Transfer(n.g, 2, 0, common.Address{1}, ct.Ether(2000)))
	if kindOf(e) != "insufficient funds for gas * price + value" {
		t.Fatalf("error.data of a refused transaction: %+v", e)
	}
	mu.Lock()
	defer mu.Unlock()
	if observed["eth_feeHistory"] != 1 || observed["eth_getBlockByNumber"] != 10 || len(failed) < 3 {
		t.Fatalf("observed %v, failed %v", observed, failed)
	}
}

// TestBatchSharesOneDeadline: the calls of a batch share one deadline, so a
// batch cannot take a call's time limit once per call.
func TestBatchSharesOneDeadline(t *testing.T) {
	srv := rpc.NewServerWith(rpc.ServerConfig{Logger: slog.New(slog.DiscardHandler), CallTimeout: 50 * time.Millisecond})
	err := srv.Register("wait", func(ctx context.Context) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err // the batch's time is already spent
		}
		<-ctx.Done()
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	batch := []rpc.BatchElem{{Method: "wait", Result: new(bool)}, {Method: "wait", Result: new(bool)}, {Method: "wait", Result: new(bool)}}
	if err := rpc.NewClient(hs.URL).BatchCall(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if batch[0].Error != nil || !*batch[0].Result.(*bool) || batch[1].Error == nil || batch[2].Error == nil {
		t.Fatalf("batch: %v %v %v", batch[0].Error, batch[1].Error, batch[2].Error)
	}
}
