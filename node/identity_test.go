package node_test

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/node"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
	gethrpc "github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"
)

// TestEthclientRecomputesBlockHashes: go-ethereum's ethclient recomputes
// every header's hash from the JSON-RPC fields (keccak256 of the RLP), on a
// PoW and on a PoS node. The recomputed hash is the node's block hash, each
// header's ParentHash is the recomputed hash of the one before,
// BlockByHash(header.Hash()) finds the block, the transactions and receipts
// tries match the header's roots, and so does every header a WebSocket
// SubscribeNewHead delivers.
func TestEthclientRecomputesBlockHashes(t *testing.T) {
	t.Run("pow", func(t *testing.T) {
		g := fastGenesis(1)
		n := startNode(t, g)
		checkBlockIdentity(t, n, ct.Key(0), new(big.Int).SetUint64(g.ChainID), 6)
	})
	t.Run("pos", func(t *testing.T) {
		n, g, key, _ := startPoSDevNode(t, t.TempDir())
		checkBlockIdentity(t, n, key, new(big.Int).SetUint64(g.ChainID), 4)
	})
}

// checkBlockIdentity sends a transfer from key, waits for the chain to reach
// past its block and minHeight, and checks every header from genesis on.
func checkBlockIdentity(t *testing.T, n *node.Node, key *ecdsa.PrivateKey, chainID *big.Int, minHeight uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ec, err := ethclient.DialContext(ctx, n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	ws, err := ethclient.DialContext(ctx, n.WSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	heads := make(chan *types.Header, 1024)
	sub, err := ws.SubscribeNewHead(ctx, heads)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	to := common.Address{0x1d}
	tx := signTx(t, key, chainID, &types.DynamicFeeTx{ChainID: chainID, GasTipCap: big.NewInt(1e9),
		GasFeeCap: big.NewInt(100e9), Gas: 21000, To: &to, Value: big.NewInt(1)})
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	withTx := waitReceipt(t, ec, tx.Hash()).BlockNumber.Uint64()
	var top uint64
	for top < max(minHeight, withTx+1) {
		if top, err = ec.BlockNumber(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	var parent *types.Header
	for height := uint64(0); height <= top; height++ {
		h, err := ec.HeaderByNumber(ctx, new(big.Int).SetUint64(height))
		if err != nil {
			t.Fatal(err)
		}
		ours, err := n.Chain().BlockByHeight(height)
		if err != nil {
			t.Fatal(err)
		}
		if h.Hash() != ours.Hash() {
			t.Fatalf("block %d: ethclient recomputes %x, the node's hash is %x", height, h.Hash(), ours.Hash())
		}
		if parent != nil && h.ParentHash != parent.Hash() {
			t.Fatalf("block %d: parent hash %x, the parent header hashes to %x", height, h.ParentHash, parent.Hash())
		}
		blk, err := ec.BlockByHash(ctx, h.Hash())
		if err != nil || blk.Hash() != h.Hash() {
			t.Fatalf("block %d by its recomputed hash: %v", height, err)
		}
		if root := types.DeriveSha(blk.Transactions(), trie.NewStackTrie(nil)); root != h.TxHash {
			t.Fatalf("block %d: transactions hash to %x, header has %x", height, root, h.TxHash)
		}
		receipts, err := ec.BlockReceipts(ctx, gethrpc.BlockNumberOrHashWithHash(h.Hash(), false))
		if err != nil {
			t.Fatal(err)
		}
		if root := types.DeriveSha(types.Receipts(receipts), trie.NewStackTrie(nil)); root != h.ReceiptHash {
			t.Fatalf("block %d: receipts hash to %x, header has %x", height, root, h.ReceiptHash)
		}
		if height == withTx && len(receipts) == 0 {
			t.Fatalf("block %d holds the transfer but has no receipts", height)
		}
		parent = h
	}

	got := 0
	for got < 2 {
		select {
		case h := <-heads:
			blk, err := ec.BlockByHash(ctx, h.Hash())
			if err != nil || blk.NumberU64() != h.Number.Uint64() {
				t.Fatalf("subscribed head %v: block by its recomputed hash %x: %v", h.Number, h.Hash(), err)
			}
			got++
		case err := <-sub.Err():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("%d new heads arrived", got)
		}
	}
}
