package node_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/ethereum/go-ethereum/crypto"
)

// runJS runs a script of testdata/js with Node.js and returns its standard
// output. It needs node and testdata/js/node_modules (`npm ci` there;
// .ci/run does it) and skips the test without them.
func runJS(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node (Node.js) is not installed")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "js"))
	for _, lib := range []string{"ethers", "viem", "web3"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", lib)); err != nil {
			t.Skipf("%s is not installed: run npm ci in node/testdata/js", lib)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, append([]string{script}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("%s %v: %v\n%s\n%s", script, args, err, out, stderr)
	}
	return out
}

func hexKey(i int) string { return "0x" + hex.EncodeToString(crypto.FromECDSA(ct.Key(i))) }

// TestEthersJS sends transfers with ethers.js v6, which batches its JSON-RPC
// calls.
func TestEthersJS(t *testing.T) {
	g := fastGenesis(1)
	n := startNode(t, g)
	out := runJS(t, "send.mjs", n.RPCURL(), hexKey(0))
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

// TestJSClients runs the same transfer flow with ethers v6, viem and
// web3.js v4, each with its default options, over HTTP and over WebSocket:
// the sender is debited exactly value + fee, eth_call of a transfer answers
// "0x", eth_getLogs answers [], each library sees new heads its own way, and
// reports an estimate with calldata as its standard reverted-call error.
func TestJSClients(t *testing.T) {
	g := fastGenesis(6)
	n := startNode(t, g)
	// How each library reports a refused estimate (calldata): its standard
	// error for a reverted call.
	refusal := map[string]string{"ethers": "CALL_EXCEPTION", "viem": "ExecutionRevertedError", "web3": "ContractExecutionError"}
	i := 0
	for _, lib := range []string{"ethers", "viem", "web3"} {
		for _, url := range []string{n.RPCURL(), n.WSURL()} {
			key := i // one sender per flow, so that no flow sees another's nonces
			i++
			transport := "http"
			if strings.HasPrefix(url, "ws") {
				transport = "ws"
			}
			t.Run(lib+"/"+transport, func(t *testing.T) {
				out := runJS(t, "clients.mjs", lib, url, hexKey(key))
				var res struct {
					ChainID        string `json:"chainId"`
					Status         int    `json:"status"`
					DebitedExactly bool   `json:"debitedExactly"`
					Received       bool   `json:"received"`
					Call           string `json:"call"`
					Logs           int    `json:"logs"`
					Heads          int    `json:"heads"`
					Refusal        string `json:"refusal"`
				}
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatalf("output %q: %v", out, err)
				}
				if res.ChainID != "1337" || res.Status != 1 || !res.DebitedExactly || !res.Received || res.Call != "0x" || res.Logs != 0 || res.Heads != 2 || res.Refusal != refusal[lib] {
					t.Fatalf("%s saw %s", lib, out)
				}
			})
		}
	}
}

// TestViemVerifiesGetProof: viem fetches eth_getProof for a funded account
// and checks it against the block's stateRoot with a Merkle-Patricia proof
// walk on its own keccak256 and RLP; the proved balance is the one
// eth_getBalance answers, and a proof with one byte changed, or checked
// against another root, is refused.
func TestViemVerifiesGetProof(t *testing.T) {
	n := startNode(t, fastGenesis(1))
	out := runJS(t, "proof.mjs", n.RPCURL(), ct.Addr(0).Hex())
	var res struct {
		Nodes            int    `json:"nodes"`
		Balance          string `json:"balance"`
		ProvedBalance    string `json:"provedBalance"`
		AnsweredBalance  string `json:"answeredBalance"`
		TamperedRefused  bool   `json:"tamperedRefused"`
		OtherRootRefused bool   `json:"otherRootRefused"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("proof.mjs output %q: %v", out, err)
	}
	if res.Nodes == 0 || res.ProvedBalance != res.Balance || res.AnsweredBalance != res.Balance || res.Balance == "0" ||
		!res.TamperedRefused || !res.OtherRootRefused {
		t.Fatalf("viem saw %s", out)
	}
}
