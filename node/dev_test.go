package node_test

import (
	"context"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/node"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
)

// TestPoSDevChain: the PoS dev chain has the dev account as its one
// validator; it makes a block each slot with no miner at all, and a
// transfer from the funded key is included.
func TestPoSDevChain(t *testing.T) {
	dir := t.TempDir()
	g, key, err := node.DevSetup(dir, 1, chain.ConsensusPoS)
	if err != nil {
		t.Fatal(err)
	}
	if g.Consensus != chain.ConsensusPoS || len(g.Validators) != 1 || g.Validators[0].Address != crypto.PubkeyToAddress(key.PublicKey) {
		t.Fatalf("dev genesis %+v", g)
	}
	n, err := node.New(node.Config{DataDir: dir, Genesis: g, ValidatorKey: key, RPCAddr: "127.0.0.1:0", P2PAddr: "", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Close()
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
	waitReceipt(t, ec, tx.Hash())
	if bal, err := ec.BalanceAt(ctx, to, nil); err != nil || bal.Int64() != 12345 {
		t.Fatalf("balance %v, %v", bal, err)
	}
	if _, _, err := node.DevSetup(dir, 1, chain.ConsensusPoW); err == nil {
		t.Fatal("a PoS dev directory reopened as PoW")
	}
}
