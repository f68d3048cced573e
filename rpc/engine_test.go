package rpc_test

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// probeEngine is the test engine with methods of its own: one in chaind_,
// as the PoS engine contributes chaind_finality, and one in a namespace of
// its own, as BFT's bft_status.
type probeEngine struct{ ct.Engine }

func (probeEngine) RPCMethods(c *chain.Chain) map[string]any {
	return map[string]any{
		"chaind_probe": func(context.Context) (uint64, error) { return c.Head().Height(), nil },
		"probe_status": func(context.Context) (uint64, error) { return c.Head().Height(), nil },
	}
}

// TestEngineNamespace: an engine's methods are served through
// NamespaceProvider, and --rpc.api governs them like any other; a
// namespace of the engine's own is served with chaind_ or when named.
func TestEngineNamespace(t *testing.T) {
	g := ct.Genesis(1)
	clk := ct.NewClock(ct.GenesisTime)
	store := chain.OpenMemStore()
	t.Cleanup(func() { store.Close() })
	c, err := chain.Open(chain.Config{Store: store, Genesis: g, Engine: probeEngine{}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	pool := mempool.New(mempool.Config{Chain: c})
	for _, tt := range []struct {
		apis      []string
		served    bool // chaind_probe
		ownServed bool // probe_status
	}{{nil, true, true}, {[]string{"eth"}, false, false}, {[]string{"eth", "probe"}, false, true}} {
		srv, err := rpc.New(rpc.Config{Chain: c, Pool: pool, APIs: tt.apis})
		if err != nil {
			t.Fatal(err)
		}
		served, ownServed := false, false
		for _, m := range srv.Methods() {
			served = served || m == "chaind_probe"
			ownServed = ownServed || m == "probe_status"
		}
		if served != tt.served || ownServed != tt.ownServed {
			t.Fatalf("APIs %v: chaind_probe served %v, probe_status %v", tt.apis, served, ownServed)
		}
	}
}

// TestAccessListRefusedInWords: a type-2 transfer with an access list is
// refused as a rejected transaction that says so, not as "calldata (got 0
// bytes)".
func TestAccessListRefusedInWords(t *testing.T) {
	n := newTestNode(t, nil)
	to := common.Address{1}
	tx := ct.Sign(n.g, 0, &types.DynamicFeeTx{ChainID: new(big.Int).SetUint64(n.g.ChainID), GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(3e9),
		Gas: 30000, To: &to, Value: big.NewInt(1), AccessList: types.AccessList{{Address: to}}})
	e := n.sendRawErr(rpc.CodeTxRejected, tx)
	if !strings.Contains(e.Message, "access lists are not supported") || kindOf(e) != "calldata not supported" {
		t.Fatalf("access list: %+v", e)
	}
}
