package node_test

import (
	"context"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/rpc"
)

// TestEngineMethods: the PoS engine serves chaind_finality,
// chaind_validators and chaind_duties through rpc's NamespaceProvider; a
// PoW node has no such methods.
func TestEngineMethods(t *testing.T) {
	g := &chain.Genesis{ChainID: 99, Consensus: chain.ConsensusPoS, Timestamp: uint64(time.Now().UnixMilli()), Alloc: chain.Alloc{ct.Addr(0): {Balance: chain.NewBigInt(ct.Ether(1))}},
		Engine: &pos.GenesisConfig{SlotTime: chain.Duration(time.Second), EpochLength: 4, Validators: []pos.GenesisValidator{{Address: ct.Addr(0), Stake: chain.NewBigInt(ct.Ether(32))}}}}
	g.FillDefaults()
	n := runNode(t, node.Config{DataDir: t.TempDir(), Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: "", Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()
	c := rpc.NewClient(n.RPCURL())
	var validators []struct {
		Address string `json:"address"`
		Stake   string `json:"stake"`
		Active  bool   `json:"active"`
	}
	if err := c.Call(ctx, &validators, "chaind_validators"); err != nil {
		t.Fatal(err)
	}
	if len(validators) != 1 || !validators[0].Active || validators[0].Stake != "0x"+new(big.Int).Set(ct.Ether(32)).Text(16) {
		t.Fatalf("validators: %+v", validators)
	}
	var fin struct {
		Enabled     bool   `json:"enabled"`
		EpochLength string `json:"epochLength"`
	}
	if err := c.Call(ctx, &fin, "chaind_finality"); err != nil || !fin.Enabled || fin.EpochLength != "0x4" {
		t.Fatalf("finality: %+v %v", fin, err)
	}
	var duties []map[string]any
	if err := c.Call(ctx, &duties, "chaind_duties", ct.Addr(0)); err != nil || len(duties) == 0 {
		t.Fatalf("duties of the only validator: %v %v", duties, err)
	}

	pow := startNode(t, fastGenesis(1))
	if err := rpc.NewClient(pow.RPCURL()).Call(ctx, nil, "chaind_finality"); err == nil {
		t.Fatal("a PoW node serves chaind_finality")
	}
}
