package node_test

import (
	"context"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// unlockedResult is what testdata/js/unlocked.mjs prints.
type unlockedResult struct {
	Accounts []common.Address `json:"accounts"`
	Status   int              `json:"status"`
	From     common.Address   `json:"from"`
	Received string           `json:"received"`
	Error    string           `json:"error"`
}

// TestDevUnlockedAccounts: a dev node funds and holds unlocked anvil's ten
// mnemonic accounts and the dev account; eth_sendTransaction from one of
// them lands in a block, sent with go-ethereum's client, with an ethers v6
// JsonRpcSigner and with a viem JSON-RPC account.
func TestDevUnlockedAccounts(t *testing.T) {
	n, _, key, _ := startPoSDevNode(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	var accs []common.Address
	if err := ec.Client().CallContext(ctx, &accs, "eth_accounts"); err != nil {
		t.Fatal(err)
	}
	if len(accs) != node.DevMnemonicAccounts+1 || accs[0] != common.HexToAddress("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266") ||
		accs[9] != common.HexToAddress("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720") || accs[10] != crypto.PubkeyToAddress(key.PublicKey) {
		t.Fatalf("eth_accounts: %v", accs)
	}
	for _, a := range accs[:node.DevMnemonicAccounts] {
		if bal, err := ec.BalanceAt(ctx, a, big.NewInt(0)); err != nil || bal.Cmp(node.DevMnemonicBalance) != 0 {
			t.Fatalf("%v holds %v at genesis (%v), want %v", a, bal, err, node.DevMnemonicBalance)
		}
	}

	to := common.Address{0xde, 0xad, 0x01}
	var hash common.Hash
	if err := ec.Client().CallContext(ctx, &hash, "eth_sendTransaction", map[string]any{"from": accs[0], "to": to, "value": hexutil.Big(*big.NewInt(777))}); err != nil {
		t.Fatal(err)
	}
	if rc := waitReceipt(t, ec, hash); rc.Status != 1 {
		t.Fatalf("receipt status %d", rc.Status)
	}
	if bal, err := ec.BalanceAt(ctx, to, nil); err != nil || bal.Int64() != 777 {
		t.Fatalf("recipient holds %v (%v)", bal, err)
	}

	for i, lib := range []string{"ethers", "viem"} {
		from := accs[1+i] // a sender per library, so that neither sees the other's nonces
		t.Run(lib, func(t *testing.T) {
			var res unlockedResult
			if out := runJS(t, "unlocked.mjs", lib, n.RPCURL(), from.Hex()); json.Unmarshal(out, &res) != nil {
				t.Fatalf("output %q", out)
			}
			if res.Error != "" || res.Status != 1 || res.From != from || res.Received != "1000000000000000000" || len(res.Accounts) != len(accs) {
				t.Fatalf("%s saw %+v", lib, res)
			}
		})
	}
}

// TestNoUnlockedAccountsOffDev: a node that is not a dev chain holds no
// keys; eth_sendTransaction is refused with a reason, to go-ethereum's
// client, ethers v6 and viem alike.
func TestNoUnlockedAccountsOffDev(t *testing.T) {
	n := startNode(t, fastGenesis(1))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	const want = "eth_sendTransaction needs an unlocked account; this node holds none (start with --dev)"
	err = ec.Client().CallContext(ctx, nil, "eth_sendTransaction", map[string]any{"from": ct.Addr(0), "to": common.Address{1}, "value": "0x1"})
	if err == nil || err.Error() != want {
		t.Fatalf("eth_sendTransaction on a node without keys: %v", err)
	}
	for _, lib := range []string{"ethers", "viem"} {
		t.Run(lib, func(t *testing.T) {
			var res unlockedResult
			if out := runJS(t, "unlocked.mjs", lib, n.RPCURL(), ct.Addr(0).Hex()); json.Unmarshal(out, &res) != nil {
				t.Fatalf("output %q", out)
			}
			if len(res.Accounts) != 0 || !strings.Contains(res.Error, want) {
				t.Fatalf("%s saw %+v", lib, res)
			}
		})
	}
}
