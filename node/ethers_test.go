package node_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestEthersJS sends transfers with ethers.js v6, which batches its JSON-RPC
// calls. It needs node and testdata/ethers/node_modules (npm ci there when
// package-lock.json exists, npm install otherwise; .ci/run does it) and is
// skipped without them.
func TestEthersJS(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node (Node.js) is not installed")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "ethers"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ethers")); err != nil {
		install := "npm install --no-package-lock"
		if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
			install = "npm ci"
		}
		t.Skipf("ethers is not installed: run %s in node/testdata/ethers", install)
	}
	g := fastGenesis(1)
	n := startNode(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "send.mjs", n.RPCURL(), "0x"+hex.EncodeToString(crypto.FromECDSA(ct.Key(0))))
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("ethers script: %v\n%s\n%s", err, out, stderr)
	}
	var res struct {
		ChainID    string `json:"chainId"`
		Type1      int    `json:"type1"`
		Type2      int    `json:"type2"`
		Status1    int    `json:"status1"`
		Status2    int    `json:"status2"`
		BlockHasTx bool   `json:"blockHasTx"`
		Balance    string `json:"balance"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ethers output %q: %v", out, err)
	}
	if res.ChainID != "1337" || res.Type1 != 2 || res.Type2 != 0 || res.Status1 != 1 || res.Status2 != 1 || !res.BlockHasTx {
		t.Fatalf("ethers saw %+v", res)
	}
	if res.Balance != "1250000000000001000" {
		t.Fatalf("recipient balance %s, want 1.25 ether + 1000 wei", res.Balance)
	}
}
