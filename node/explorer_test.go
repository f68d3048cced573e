package node_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/internal/browser"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/rpc"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

var explorerShots = flag.String("explorer.screenshots", "", "write PNGs of the explorer's views (explorer-*.png) to this directory")

// TestExplorerBesideRPC: the explorer is served on the RPC address, a
// browser opening / is sent to it, and the page's own JSON-RPC calls (a
// same-origin POST, which carries an Origin header) are answered, while
// another origin is still refused and curl still reads the description.
func TestExplorerBesideRPC(t *testing.T) {
	n := runNode(t, node.Config{DataDir: t.TempDir(), Genesis: fastGenesis(0), RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, header map[string]string, body string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, n.RPCURL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	if code, _, body := do("GET", "/explorer/", nil, ""); code != 200 || !strings.Contains(body, "chaind explorer") {
		t.Fatalf("GET /explorer/: %d %q", code, body)
	}
	if code, h, _ := do("GET", "/", map[string]string{"Accept": "text/html,*/*;q=0.8"}, ""); code != http.StatusFound || h.Get("Location") != "/explorer/" {
		t.Fatalf("a browser's GET /: %d to %q", code, h.Get("Location"))
	}
	if code, _, body := do("GET", "/", map[string]string{"Accept": "*/*"}, ""); code != 200 || !strings.Contains(body, "JSON-RPC") {
		t.Fatalf("curl's GET /: %d %q", code, body)
	}
	call := `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`
	hdr := map[string]string{"Content-Type": "application/json", "Origin": n.RPCURL()}
	if code, _, body := do("POST", "/", hdr, call); code != 200 || !strings.Contains(body, `"result":"0x0"`) {
		t.Fatalf("the page's own call: %d %q", code, body)
	}
	hdr["Origin"] = "http://evil.example"
	if code, _, _ := do("POST", "/", hdr, call); code != http.StatusForbidden {
		t.Fatalf("a call from another origin: %d, want 403", code)
	}
}

// explorerNode is a PoW node on g that mines only when told to, to
// coinbase, serving the namespaces apis (nil: the default ones).
func explorerNode(t *testing.T, g *chain.Genesis, coinbase common.Address, apis []string) *node.Node {
	t.Helper()
	n := runNode(t, node.Config{DataDir: t.TempDir(), Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0", MinerThreads: 1,
		Coinbase: coinbase, NoDiscover: true, Logger: slog.New(slog.DiscardHandler), RPCAPIs: apis})
	return n
}

// mineUntil runs n's miner until cond holds.
func mineUntil(t *testing.T, n *node.Node, what string, cond func() bool) {
	t.Helper()
	n.Miner().Start()
	defer n.Miner().Stop()
	poll.Until(t, 2*time.Minute, what, cond)
}

// TestExplorerInBrowser opens the explorer of a real node in headless
// Chromium. Node B mines three blocks alone, then joins node A's heavier
// chain: B's blocks are reorged out. A transfer is sent to B with
// go-ethereum's ethclient (and one with ethers.js when node/testdata/js is
// installed). The page shows the blocks with their producers and the side
// branch, the reorg, the reorged block as not canonical with the block that
// replaced it, the transaction with its receipt's status, the recipient's
// balance and transfer, and the peer; A's page (without the admin
// namespace) says that admin_peers is off; a PoS dev node's page shows its
// validator, finality checkpoints and a finalized block.
func TestExplorerInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nodes and a browser")
	}
	page := browser.Open(t, 6*time.Minute)                 // skips without Chromium
	pos, _, _, producer := startPoSDevNode(t, t.TempDir()) // finalizes its first epochs meanwhile
	g := fastGenesis(1)
	a := explorerNode(t, g, common.Address{0xaa}, nil) // no admin namespace
	b := explorerNode(t, g, common.Address{0xbb}, rpc.DevAPIs)
	// A transfer of 1.5 ether sent with ethclient, mined by A.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, a.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	chainID := big.NewInt(int64(g.ChainID))
	to := common.HexToAddress("0x00000000000000000000000000000000000ac1d0")
	value := new(big.Int).Div(ct.Ether(3), big.NewInt(2))
	tx := signTx(t, ct.Key(0), chainID, &types.DynamicFeeTx{ChainID: chainID, GasTipCap: big.NewInt(1e9),
		GasFeeCap: new(big.Int).Add(g.BaseFee.Big(), big.NewInt(1e9)), Gas: 21000, To: &to, Value: value})
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	var rc *types.Receipt
	mineUntil(t, a, "A to mine 6 blocks and the transfer", func() bool {
		rc, _ = ec.TransactionReceipt(ctx, tx.Hash())
		return rc != nil && a.Chain().Head().Height() >= 6
	})
	mineUntil(t, b, "B to mine 3 blocks", func() bool { return b.Chain().Head().Height() >= 3 })
	mineUntil(t, a, "A's chain to outweigh B's", func() bool { return a.Chain().HeadWeight().Cmp(b.Chain().HeadWeight()) > 0 })

	lost, err := b.Chain().BlockByHeight(2)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	removed := map[common.Hash]bool{}
	b.Chain().Subscribe(func(ev chain.HeadEvent) {
		mu.Lock()
		defer mu.Unlock()
		for _, blk := range ev.Removed {
			removed[blk.Hash()] = true
		}
	})
	if err := rpc.NewClient(b.RPCURL()).Call(ctx, nil, "admin_addPeer", a.P2PAddr()); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, time.Minute, "B to take A's chain", func() bool { return b.Chain().Head().Hash() == a.Chain().Head().Hash() })
	mu.Lock()
	reorged := removed[lost.Hash()]
	mu.Unlock()
	if !reorged {
		t.Fatalf("B's block %s at height 2 was not reorged out", lost.Hash())
	}
	winner, err := b.Chain().BlockByHeight(2)
	if err != nil {
		t.Fatal(err)
	}

	base := b.RPCURL() + "/explorer/"
	shot := func(name string) {
		if *explorerShots != "" {
			page.Screenshot(filepath.Join(*explorerShots, "explorer-"+name+".png"))
		}
	}
	wait := func(what, js string) { t.Helper(); page.Wait(what, js, 90*time.Second) }
	text := func(sel string) string {
		t.Helper()
		return browser.Eval[string](page, `(document.querySelector(`+jsString(sel)+`) || {textContent: ""}).textContent`)
	}

	page.Navigate(b.RPCURL() + "/")
	wait("the root URL to lead a browser to the explorer", `location.pathname === '/explorer/' && !!document.querySelector('#blocks')`)
	head := b.Chain().Head().Hash() // A's block: nothing mines now
	wait("the head block", `!!document.querySelector('#blocks tr.canonical[data-hash="`+head.Hex()+`"]')`)
	if got := text(`#blocks tr[data-hash="` + head.Hex() + `"] td:nth-child(3) a`); got != short(common.Address{0xaa}.Hex()) {
		t.Fatalf("producer of the head block shown as %q", got)
	}
	wait("the reorg", `[...document.querySelectorAll('#reorgs a')].some(a => a.title === '`+lost.Hash().Hex()+`')`)
	if got := text("#reorgs tr:nth-child(2) td:nth-child(3)"); got != "#0" {
		t.Fatalf("the reorg forked at %q, want #0: the two nodes share only genesis", got)
	}
	wait("the peer", `document.querySelectorAll('#peers tr').length === 2`)
	shot("home")

	// A serves the default namespaces: its page says where the peers went.
	page.Navigate(a.RPCURL() + "/explorer/")
	wait("A's page", `!!document.querySelector('#blocks')`)
	if got := text("#no-peers"); !strings.Contains(got, "admin_peers is not served") {
		t.Fatalf("A's peers card says %q", got)
	}

	page.Navigate(base + "#/block/" + lost.Hash().Hex())
	wait("the reorged block's page", `!!document.querySelector('#not-canonical')`)
	if got := browser.Eval[string](page, `document.querySelector('#replaced-by a').title`); got != winner.Hash().Hex() {
		t.Fatalf("the reorged block names %s as its replacement, want %s", got, winner.Hash())
	}
	if !strings.Contains(text("#not-canonical"), "reorg") || text("#block-status") != "not canonical" {
		t.Fatalf("the reorged block's page says %q, status %q", text("#not-canonical"), text("#block-status"))
	}
	for hash, label := range map[common.Hash]string{lost.Hash(): "side branch", winner.Hash(): "canonical"} {
		if got := text(`#siblings tr[data-hash="` + hash.Hex() + `"] .badge`); got != label {
			t.Fatalf("block %s at height 2 is called %q, want %q", hash, got, label)
		}
	}
	shot("reorg")

	page.Navigate(base + "#/block/" + rc.BlockNumber.String())
	wait("the transfer's block", `document.querySelector('#block-hash')?.textContent === '`+rc.BlockHash.Hex()+`'`)
	wait("the transfer in its block", `!!document.querySelector('.txs tr[data-hash="`+tx.Hash().Hex()+`"]')`)
	if got := text("#block-producer"); got != strings.ToLower(common.Address{0xaa}.Hex()) {
		t.Fatalf("producer of the transfer's block shown as %q", got)
	}
	if strings.Contains(browser.Eval[string](page, `document.body.textContent`), "not canonical") {
		t.Fatal("a canonical block is called not canonical")
	}
	shot("block")

	// The search box finds the transaction by its hash.
	if _, err := chromedp.Run(page.Context(), chromedp.SetValue("#q", tx.Hash().Hex())); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(page.Context(), chromedp.Click("#search button")); err != nil {
		t.Fatal(err)
	}
	wait("the transaction's page", `document.querySelector('#tx-hash')?.textContent === '`+tx.Hash().Hex()+`'`)
	if s, v, gas := text("#tx-status"), text("#tx-value"), text("#tx-gas-used"); s != "success" || v != "1.5 ETH" || gas != "21,000" {
		t.Fatalf("transaction shown with status %q, value %q, gas used %q", s, v, gas)
	}
	shot("tx")

	page.Navigate(base + "#/address/" + to.Hex())
	wait("the account's page", `!!document.querySelector('#transfers tr[data-hash="`+tx.Hash().Hex()+`"]')`)
	if got := text("#account-balance"); got != "1.5 ETH" {
		t.Fatalf("balance shown as %q", got)
	}
	shot("account")

	// The open account page shows a new transfer once B mines it.
	b.Miner().Start()
	defer b.Miner().Stop()
	ecB, err := ethclient.DialContext(ctx, b.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ecB.Close()
	tx2 := signTx(t, ct.Key(0), chainID, &types.DynamicFeeTx{ChainID: chainID, Nonce: 1, GasTipCap: big.NewInt(1e9),
		GasFeeCap: new(big.Int).Add(g.BaseFee.Big(), big.NewInt(1e9)), Gas: 21000, To: &to, Value: big.NewInt(1000)})
	if err := ecB.SendTransaction(ctx, tx2); err != nil {
		t.Fatal(err)
	}
	waitReceipt(t, ecB, tx2.Hash())
	wait("the second transfer on the open account page", `!!document.querySelector('#transfers tr[data-hash="`+tx2.Hash().Hex()+`"]')`)
	if got := text("#account-balance"); got != "1.500000000000001 ETH" {
		t.Fatalf("balance shown as %q after the second transfer", got)
	}

	t.Run("ethers", func(t *testing.T) {
		out := runJS(t, "send.mjs", b.RPCURL(), hexKey(0)) // skips without node_modules
		var res struct {
			Hash1 string `json:"hash1"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("ethers output %q: %v", out, err)
		}
		// send.mjs returns once the receipt is in a block: the page shows
		// it with no further block.
		page.Navigate(base + "#/tx/" + res.Hash1)
		wait("the ethers transfer's page", `document.querySelector('#tx-status')?.textContent === 'success'`)
		if got := text("#tx-value"); got != "1.25 ETH" {
			t.Fatalf("ethers transfer shown with value %q", got)
		}
	})

	page.Navigate(pos.RPCURL() + "/explorer/")
	wait("the validator", `document.querySelectorAll('#validators tr').length === 2`)
	if got, want := text("#validators td a"), strings.ToLower(crypto.PubkeyToAddress(producer.PublicKey).Hex()); got != want {
		t.Fatalf("validator shown as %q, want %s", got, want)
	}
	if !strings.Contains(text("#pos"), "Finalized") {
		t.Fatalf("PoS page: checkpoints %q", text("#pos"))
	}
	wait("a finalized block after genesis", `[...document.querySelectorAll('#blocks tr.canonical')].some(r => +r.dataset.number > 0 && r.querySelector('.badge.ok')?.textContent === 'finalized')`)
	shot("pos")
}

// short is the page's abbreviation of a long hex string.
func short(h string) string { return h[:10] + "…" + h[len(h)-6:] }

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
