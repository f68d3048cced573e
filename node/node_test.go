package node_test

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/chaind/chaind/chain"
	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/pow"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
)

// fastGenesis is a real PoW chain that a 2-core machine mines in a fraction
// of a second per block.
func fastGenesis(funded int) *chain.Genesis {
	g := &chain.Genesis{
		ChainID:   1337,
		Consensus: chain.ConsensusPoW,
		BlockTime: chain.Duration(200 * time.Millisecond),
		Engine:    &pow.GenesisConfig{HalfLife: chain.Duration(2 * time.Second), Difficulty: chain.NewBigInt(big.NewInt(20_000))},
		Timestamp: uint64(time.Now().UnixMilli()),
		Alloc:     chain.Alloc{},
	}
	for i := 0; i < funded; i++ {
		g.Alloc[ct.Addr(i)] = chain.GenesisAccount{Balance: chain.NewBigInt(ct.Ether(1000))}
	}
	g.FillDefaults()
	return g
}

var minerAddr = common.Address{0xc0, 0x1b, 0xa5, 0xe0}

// runNode starts an in-process node with cfg and closes it when the test
// ends.
func runNode(t *testing.T, cfg node.Config) *node.Node {
	t.Helper()
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// startNode runs an in-process node on a LevelDB in a temporary directory,
// mining to minerAddr, with RPC on a free loopback port.
func startNode(t *testing.T, g *chain.Genesis) *node.Node {
	t.Helper()
	n := runNode(t, node.Config{
		DataDir: t.TempDir(), Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: "127.0.0.1:0", Mine: true, MinerThreads: 1,
		Coinbase: minerAddr, Logger: slog.New(slog.DiscardHandler), RPCAPIs: rpc.DevAPIs,
	})
	return n
}

func waitReceipt(t *testing.T, ec *ethclient.Client, hash common.Hash) *types.Receipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		r, err := ec.TransactionReceipt(ctx, hash)
		if err == nil {
			return r
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no receipt for %s: %v", hash.Hex(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestEthclientTransfers: go-ethereum's ethclient sends an EIP-1559 and an
// EIP-155 legacy transfer, waits for the receipts, and every balance moves
// to the wei.
// It does so over HTTP and over WebSocket, where it also follows the chain
// with SubscribeNewHead.
func TestEthclientTransfers(t *testing.T) {
	g := fastGenesis(2)
	n := startNode(t, g)
	t.Run("http", func(t *testing.T) { ethclientTransfers(t, g, n.RPCURL(), 0) })
	t.Run("ws", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		ec, err := ethclient.DialContext(ctx, n.WSURL())
		if err != nil {
			t.Fatal(err)
		}
		defer ec.Close()
		heads := make(chan *types.Header, 1024)
		sub, err := ec.SubscribeNewHead(ctx, heads)
		if err != nil {
			t.Fatal(err)
		}
		ethclientTransfers(t, g, n.WSURL(), 1)
		sub.Unsubscribe()
		close(heads)
		var prev *types.Header
		for h := range heads {
			if prev != nil && h.Number.Uint64() != prev.Number.Uint64()+1 {
				t.Fatalf("newHeads went from %v to %v", prev.Number, h.Number)
			}
			prev = h
		}
		if prev == nil {
			t.Fatal("no new head arrived while two transfers were mined")
		}
	})
}

func ethclientTransfers(t *testing.T, g *chain.Genesis, url string, from int) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()

	chainID, err := ec.ChainID(ctx)
	if err != nil || chainID.Uint64() != 1337 {
		t.Fatalf("chain id %v %v", chainID, err)
	}
	key := ct.Key(from)
	sender := ct.Addr(from)
	nonce, err := ec.PendingNonceAt(ctx, sender)
	if err != nil {
		t.Fatal(err)
	}
	tip, err := ec.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if head.BaseFee == nil {
		t.Fatal("no baseFeePerGas: clients would not use EIP-1559")
	}
	gasPrice, err := ec.SuggestGasPrice(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := common.Address{0x01, 0x11, byte(from)}, common.Address{0x02, 0x22, byte(from)}
	v1, v2 := ct.Ether(3), big.NewInt(123_456_789)
	dyn := signTx(t, key, chainID, &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip), Gas: 21000, To: &r1, Value: v1})
	legacy := signTx(t, key, chainID, &types.LegacyTx{Nonce: nonce + 1, GasPrice: gasPrice, Gas: 21000, To: &r2, Value: v2})
	if !legacy.Protected() {
		t.Fatal("legacy transaction is not EIP-155 protected")
	}
	for _, tx := range []*types.Transaction{dyn, legacy} {
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatalf("send %d: %v", tx.Type(), err)
		}
	}
	if pn, _ := ec.PendingNonceAt(ctx, sender); pn != nonce+2 {
		t.Errorf("pending nonce %d after two sends, want %d", pn, nonce+2)
	}
	spent := new(big.Int)
	feesByBlock := map[uint64]*big.Int{}
	for _, tx := range []*types.Transaction{dyn, legacy} {
		rc := waitReceipt(t, ec, tx.Hash())
		if rc.Status != types.ReceiptStatusSuccessful || rc.GasUsed != 21000 || rc.TxHash != tx.Hash() {
			t.Fatalf("receipt %+v", rc)
		}
		fee := new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), rc.EffectiveGasPrice)
		spent.Add(spent, new(big.Int).Add(fee, tx.Value()))
		bn := rc.BlockNumber.Uint64()
		if feesByBlock[bn] == nil {
			feesByBlock[bn] = new(big.Int)
		}
		feesByBlock[bn].Add(feesByBlock[bn], fee)
		got, pending, err := ec.TransactionByHash(ctx, tx.Hash())
		if err != nil || pending || got.Hash() != tx.Hash() {
			t.Fatalf("transaction by hash: %v pending=%v", err, pending)
		}
		blk, err := ec.BlockByNumber(ctx, rc.BlockNumber)
		if err != nil || blk.Transaction(tx.Hash()) == nil {
			t.Fatalf("block %d by number: %v", bn, err)
		}
	}
	if dynPrice := new(big.Int).Add(head.BaseFee, tip); waitReceipt(t, ec, dyn.Hash()).EffectiveGasPrice.Cmp(dynPrice) != 0 {
		t.Errorf("EIP-1559 effective price is not base fee + tip")
	}
	last := waitReceipt(t, ec, legacy.Hash()).BlockNumber
	check := func(who string, addr common.Address, want *big.Int, at *big.Int) {
		t.Helper()
		got, err := ec.BalanceAt(ctx, addr, at)
		if err != nil {
			t.Fatal(err)
		}
		if got.Cmp(want) != 0 {
			t.Errorf("%s balance %v, want %v", who, got, want)
		}
	}
	check("recipient 1", r1, v1, last)
	check("recipient 2", r2, v2, last)
	check("sender", sender, new(big.Int).Sub(ct.Ether(1000), spent), last)
	for bn, fees := range feesByBlock {
		before, err := ec.BalanceAt(ctx, minerAddr, new(big.Int).SetUint64(bn-1))
		if err != nil {
			t.Fatal(err)
		}
		check("producer", minerAddr, new(big.Int).Add(before, new(big.Int).Add(g.BlockReward.Big(), fees)), new(big.Int).SetUint64(bn))
	}
}

func signTx(t *testing.T, key *ecdsa.PrivateKey, chainID *big.Int, data types.TxData) *types.Transaction {
	t.Helper()
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), data)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}
