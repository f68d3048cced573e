package main

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestDevNodeAndWalletCLI is the newcomer's path: start `chaind node --dev`,
// import its key into a keystore, send a transfer with `chaind wallet send
// --wait`, read the balance, stop the node with SIGTERM and restart it on
// the same data directory at the same head.
func TestDevNodeAndWalletCLI(t *testing.T) {
	dir := t.TempDir()
	datadir := filepath.Join(dir, "dev")
	p := startChaind(t, "node", "--dev", "--datadir", datadir, "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "127.0.0.1:0", "--log.level", "warn")
	keystore := filepath.Join(dir, "keystore")
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ks := []string{"--keystore", keystore, "--password-file", pwFile}

	out, err := runChaind(t, append([]string{"wallet", "import", filepath.Join(datadir, "dev.key"), "--lightkdf"}, ks...)...)
	if err != nil {
		t.Fatalf("wallet import: %v\n%s", err, out)
	}
	devAddr := strings.Fields(out)[0]
	if out, err := runChaind(t, append([]string{"wallet", "import", filepath.Join(datadir, "dev.key"), "--lightkdf"}, ks...)...); err == nil {
		t.Fatalf("importing the same key twice succeeded: %s", out)
	}
	out, err = runChaind(t, append([]string{"wallet", "new", "--lightkdf"}, ks...)...)
	if err != nil {
		t.Fatalf("wallet new: %v\n%s", err, out)
	}
	newAddr := strings.Fields(out)[0]
	out, err = runChaind(t, "wallet", "list", "--keystore", keystore)
	if err != nil || !strings.Contains(out, devAddr) || !strings.Contains(out, newAddr) {
		t.Fatalf("wallet list: %v\n%s", err, out)
	}
	data, err := os.ReadFile(strings.Fields(strings.Split(out, "\n")[0])[1])
	if err != nil || !json.Valid(data) || !strings.Contains(string(data), `"crypto"`) {
		t.Fatalf("key file is not a Web3 Secret Storage JSON file: %v", err)
	}

	out, err = runChaind(t, append([]string{"wallet", "send", "--from", devAddr, "--to", newAddr, "--value", "2.5eth", "--wait", "--rpc", p.url}, ks...)...)
	if err != nil {
		t.Fatalf("wallet send: %v\n%s", err, out)
	}
	lines := strings.SplitN(out, "\n", 2)
	if !strings.HasPrefix(lines[0], "0x") || len(lines[0]) != 66 {
		t.Fatalf("send did not print a transaction hash first: %s", out)
	}
	var receipt struct {
		Status          string `json:"status"`
		TransactionHash string `json:"transactionHash"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &receipt); err != nil || receipt.Status != "0x1" || receipt.TransactionHash != lines[0] {
		t.Fatalf("--wait did not print a successful receipt: %v\n%s", err, out)
	}
	out, err = runChaind(t, "wallet", "balance", newAddr, "--rpc", p.url)
	if err != nil || !strings.HasPrefix(out, "2500000000000000000 wei") {
		t.Fatalf("wallet balance: %v\n%s", err, out)
	}
	out, err = runChaind(t, append([]string{"wallet", "send", "--from", devAddr, "--to", newAddr, "--value", "1eth", "--rpc", p.url, "--password-file", filepath.Join(dir, "wrong")}, "--keystore", keystore)...)
	if err == nil {
		t.Fatalf("send without a readable password succeeded: %s", out)
	}

	// Another node joins the dev chain with the genesis the dev node wrote.
	joiner := startChaind(t, nodeArgs(filepath.Join(dir, "joiner"), filepath.Join(datadir, "genesis.json"), "--peers", p.p2p)...)
	waitFor(t, 30*time.Second, "the joining node to sync the dev chain", func() bool {
		var bal hexutil.Big
		joiner.call(t, &bal, "eth_getBalance", newAddr, "latest")
		return bal.ToInt().Cmp(big.NewInt(25e17)) == 0
	})
	joiner.kill()

	var before hexutil.Uint64
	if err := p.client().Call(context.Background(), &before, "eth_blockNumber"); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("node did not stop on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM: %s", code, p.stderr)
	}
	p2 := startChaind(t, "node", "--dev", "--datadir", datadir, "--rpc.addr", "127.0.0.1:0", "--p2p.addr", "127.0.0.1:0", "--log.level", "warn")
	var after hexutil.Uint64
	if err := p2.client().Call(context.Background(), &after, "eth_blockNumber"); err != nil {
		t.Fatal(err)
	}
	if after < before {
		t.Fatalf("restart resumed at %d, below the %d it had", after, before)
	}
	out, err = runChaind(t, "wallet", "balance", newAddr, "--rpc", p2.url)
	if err != nil || !strings.HasPrefix(out, "2500000000000000000 wei") {
		t.Fatalf("balance after restart: %v\n%s", err, out)
	}
}
