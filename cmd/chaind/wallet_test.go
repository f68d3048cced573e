package main

import (
	"context"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
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

	// With --wait, stdout is the receipt alone, so that it pipes into jq;
	// the hash goes to stderr.
	send := exec.Command(chaindBinary(t), append([]string{"wallet", "send", "--from", devAddr, "--to", newAddr, "--value", "2.5eth", "--wait", "--rpc", p.url}, ks...)...)
	var stderr strings.Builder
	send.Stderr = &stderr
	stdout, err := send.Output()
	if err != nil {
		t.Fatalf("wallet send: %v\n%s%s", err, stdout, stderr.String())
	}
	var receipt struct {
		Status          string `json:"status"`
		TransactionHash string `json:"transactionHash"`
	}
	if err := json.Unmarshal(stdout, &receipt); err != nil || receipt.Status != "0x1" {
		t.Fatalf("--wait did not print only a successful receipt on stdout: %v\n%s", err, stdout)
	}
	if !strings.Contains(stderr.String(), "sent "+receipt.TransactionHash) {
		t.Fatalf("send did not name the transaction hash on stderr: %s", stderr.String())
	}
	out, err = runChaind(t, "wallet", "balance", newAddr, "--rpc", p.url)
	if err != nil || !strings.HasPrefix(out, "2500000000000000000 wei") {
		t.Fatalf("wallet balance: %v\n%s", err, out)
	}
	out, err = runChaind(t, append([]string{"wallet", "send", "--from", devAddr, "--to", newAddr, "--value", "1eth", "--rpc", p.url, "--password-file", filepath.Join(dir, "wrong")}, "--keystore", keystore)...)
	if err == nil {
		t.Fatalf("send without a readable password succeeded: %s", out)
	}
	// A node's refusal reads as its message, without JSON-RPC's error code.
	out, err = runChaind(t, append([]string{"wallet", "send", "--from", devAddr, "--to", newAddr, "--value", "1000000000eth", "--rpc", p.url}, ks...)...)
	if err == nil || !strings.Contains(out, "insufficient funds") || strings.Contains(out, "(code") {
		t.Fatalf("send beyond the balance: %v\n%s", err, out)
	}

	// Another node joins the dev chain with the genesis the dev node wrote.
	joiner := startChaind(t, nodeArgs(filepath.Join(dir, "joiner"), filepath.Join(datadir, "genesis.json"), "--peers", p.p2p)...)
	poll.Until(t, 30*time.Second, "the joining node to sync the dev chain", func() bool {
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

// TestHostileKeyFileRefused: a keystore file asking scrypt for a TiB is
// refused before any key is derived, by the validator key loading, by
// `wallet send --from` and by `wallet import` (a process that tried would be
// killed or would run for minutes).
func TestHostileKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	const addr = "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8"
	hostile := `{"address":"` + addr + `","crypto":{"cipher":"aes-128-ctr","ciphertext":"b87781948a1befd247bff51ef4063f716cf6c2d3481163e9a8f42e1f9bb74145",` +
		`"cipherparams":{"iv":"dc4926b48a105133d2f16b96833abf1e"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":1073741824,"p":1,"r":8,` +
		`"salt":"004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb45410722f8f0"},"mac":"39990c1684557447940d4c69e06b1b82b2aceacb43f284df65c956daf3046b85"},` +
		`"id":"ce541d8d-c79b-40f8-9f8c-20f59616faba","version":3}`
	keystore := filepath.Join(dir, "keystore")
	keyFile := filepath.Join(keystore, "UTC--hostile")
	pwFile := filepath.Join(dir, "password")
	if err := os.MkdirAll(keystore, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(hostile), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pwFile, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"node", "--dev", "--consensus", "pos", "--datadir", filepath.Join(dir, "node"), "--validator.key", keyFile, "--validator.password", pwFile},
		{"wallet", "send", "--from", "0x" + addr, "--keystore", keystore, "--password-file", pwFile, "--to", "0x" + addr, "--value", "1", "--rpc", "http://127.0.0.1:1"},
		{"wallet", "import", keyFile, "--keystore", filepath.Join(dir, "other"), "--password-file", pwFile},
	} {
		out, err := runChaind(t, args...)
		if err == nil || !strings.Contains(out, "scrypt n=1073741824 r=8 needs 1048576 MiB") {
			t.Fatalf("%s: %v\n%s", args[0], err, out)
		}
	}
}
