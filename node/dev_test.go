package node_test

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// TestDevCoinbaseIsNotTheDevAccount: on the dev chain the rewards go to an
// address of their own, kept across restarts, so the funded dev account's
// balance changes only by what it sends.
func TestDevCoinbaseIsNotTheDevAccount(t *testing.T) {
	dir := t.TempDir()
	g, key, err := node.DevSetup(dir, 1, chain.ConsensusPoW, 0)
	if err != nil {
		t.Fatal(err)
	}
	dev := crypto.PubkeyToAddress(key.PublicKey)
	producer, err := node.DevCoinbase(dir)
	if err != nil {
		t.Fatal(err)
	}
	coinbase := crypto.PubkeyToAddress(producer.PublicKey)
	if coinbase == dev {
		t.Fatalf("coinbase %v is the dev account", coinbase)
	}
	if _, funded := g.Alloc[coinbase]; funded {
		t.Fatal("the coinbase is funded at genesis")
	}
	again, err := node.DevCoinbase(dir)
	if err != nil || crypto.PubkeyToAddress(again.PublicKey) != coinbase {
		t.Fatalf("coinbase after a restart: %v, want %v", err, coinbase)
	}
	g2, key2, err := node.DevSetup(dir, 1, "", 0)
	if err != nil || crypto.PubkeyToAddress(key2.PublicKey) != dev || g2.ChainID != g.ChainID {
		t.Fatalf("dev chain after a restart: %v", err)
	}
}

// TestPoSDevChain: the PoS dev chain has the producer key as its one
// validator; it makes a block each slot with no miner at all, a transfer
// from the funded key is included, and the funded account pays exactly the
// value and the fee (the rewards go to the validator).
func TestPoSDevChain(t *testing.T) {
	dir := t.TempDir()
	n, g, key, producer := startPoSDevNode(t, dir)
	if g.Consensus != chain.ConsensusPoS || len(pos.Section(g).Validators) != 1 || pos.Section(g).Validators[0].Address != crypto.PubkeyToAddress(producer.PublicKey) {
		t.Fatalf("dev genesis %+v", g)
	}
	if n.Miner() != nil {
		t.Fatal("a PoS dev node has a miner")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	chainID := new(big.Int).SetUint64(node.DevChainID)
	to := common.Address{0xde, 0xad}
	tx := signTx(t, key, chainID, &types.DynamicFeeTx{ChainID: chainID, GasTipCap: big.NewInt(1e9),
		GasFeeCap: new(big.Int).Add(g.BaseFee.Big(), big.NewInt(1e9)), Gas: 21000, To: &to, Value: big.NewInt(12345)})
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	rc := waitReceipt(t, ec, tx.Hash())
	if bal, err := ec.BalanceAt(ctx, to, nil); err != nil || bal.Int64() != 12345 {
		t.Fatalf("balance %v, %v", bal, err)
	}
	fee := new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), rc.EffectiveGasPrice)
	want := new(big.Int).Sub(node.DevBalance, new(big.Int).Add(fee, big.NewInt(12345)))
	if bal, err := ec.BalanceAt(ctx, crypto.PubkeyToAddress(key.PublicKey), nil); err != nil || bal.Cmp(want) != 0 {
		t.Fatalf("dev account holds %v (%v), want %v: it must pay exactly the value and the fee", bal, err, want)
	}
	if _, _, err := node.DevSetup(dir, 1, chain.ConsensusPoW, 0); err == nil {
		t.Fatal("a PoS dev directory reopened as PoW")
	}
}

// startPoSDevNode sets a PoS dev chain up in dir and starts its node as
// chaind node --dev does: the producer key as validator, the dev accounts
// unlocked, the dev namespaces served. It returns the node, the genesis, the
// funded key and the producer key.
func startPoSDevNode(t *testing.T, dir string) (*node.Node, *chain.Genesis, *ecdsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	g, key, err := node.DevSetup(dir, 1, chain.ConsensusPoS, 0)
	if err != nil {
		t.Fatal(err)
	}
	producer, err := node.DevCoinbase(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlocked, err := node.DevAccounts(key)
	if err != nil {
		t.Fatal(err)
	}
	n := runNode(t, node.Config{DataDir: dir, Genesis: g, ValidatorKey: producer, UnlockedKeys: unlocked, RPCAddr: "127.0.0.1:0",
		RPCAPIs: rpc.DevAPIs, Logger: slog.New(slog.DiscardHandler)})
	return n, g, key, producer
}
