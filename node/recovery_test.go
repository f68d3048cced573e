package node_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestEachSenderRecoveredOnce: a transfer's signature is recovered once by
// each node that admits it to its mempool, and never again when the block
// that holds it is built, sealed and imported, here or at a peer.
func TestEachSenderRecoveredOnce(t *testing.T) {
	g := fastGenesis(4)
	a := startNode(t, g)
	b, err := node.New(node.Config{DataDir: t.TempDir(), Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0",
		Peers: []string{a.P2PAddr()}, Logger: a.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	deadline := time.Now().Add(30 * time.Second)
	for b.P2PPeerCount() == 0 || a.Chain().Head().Hash() != b.Chain().Head().Hash() {
		if time.Now().After(deadline) {
			t.Fatal("nodes did not connect and sync")
		}
		time.Sleep(20 * time.Millisecond)
	}
	const perSender = 25
	// The transfers reach b's mempool before a mines them, so that b sees
	// each twice: once gossiped, once in a block.
	a.Miner().Stop()
	before := chain.SenderRecoveries()
	client := rpc.NewClient(a.RPCURL())
	ctx := context.Background()
	for k := 0; k < 4; k++ {
		for n := 0; n < perSender; n++ {
			raw, _ := ct.Transfer(g, k, uint64(n), common.Address{0x77}, big.NewInt(1)).MarshalBinary()
			if err := client.Call(ctx, nil, "eth_sendRawTransaction", hexutil.Bytes(raw)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for b.Pool().Len() < 4*perSender {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("b's mempool has %d of %d transfers", b.Pool().Len(), 4*perSender)
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.Miner().Start()
	for {
		done := true
		for k := 0; k < 4; k++ {
			if b.Chain().Account(ct.Addr(k)).Nonce != perSender || a.Chain().Account(ct.Addr(k)).Nonce != perSender {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatal("transfers not mined on both nodes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, want := chain.SenderRecoveries()-before, uint64(2*4*perSender); got != want {
		t.Fatalf("%d signature recoveries for %d transfers admitted by two nodes; want exactly %d", got, 4*perSender, want)
	}
}
