package node_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/bftchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/p2p/memnet"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/ethclient"
)

// bftDevConfig sets a BFT dev chain up in dir and returns the node config
// of chaind node --dev --consensus bft, its genesis and the funded key.
func bftDevConfig(t *testing.T, dir string) (node.Config, *chain.Genesis, *ecdsa.PrivateKey) {
	t.Helper()
	g, key, err := node.DevSetup(dir, 1, bftchain.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	producer, err := node.DevCoinbase(dir)
	if err != nil {
		t.Fatal(err)
	}
	return node.Config{DataDir: dir, Genesis: g, ValidatorKey: producer, RPCAddr: "127.0.0.1:0",
		RPCAPIs: rpc.DevAPIs, Logger: slog.New(slog.DiscardHandler)}, g, key
}

// startBFTDevNode starts the node of bftDevConfig, closed when t ends.
func startBFTDevNode(t *testing.T, dir string) (*node.Node, *chain.Genesis, *ecdsa.PrivateKey) {
	t.Helper()
	cfg, g, key := bftDevConfig(t, dir)
	return runNode(t, cfg), g, key
}

// sendTransfer sends value wei from key to to through n's JSON-RPC over
// HTTP and returns the receipt of the block that includes it.
func sendTransfer(t *testing.T, ec *ethclient.Client, g *chain.Genesis, key *ecdsa.PrivateKey, nonce uint64, to common.Address, value int64) *types.Receipt {
	t.Helper()
	chainID := new(big.Int).SetUint64(g.ChainID)
	tx := signTx(t, key, chainID, &types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: big.NewInt(1e9),
		GasFeeCap: new(big.Int).Add(g.BaseFee.Big(), big.NewInt(1e9)), Gas: 21000, To: &to, Value: big.NewInt(value)})
	if err := ec.SendTransaction(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	return waitReceipt(t, ec, tx.Hash())
}

// checkFinalAtHead fails unless the finalized and safe blocks are the
// head, as JSON-RPC reports them.
func checkFinalAtHead(t *testing.T, ec *ethclient.Client) {
	t.Helper()
	ctx := context.Background()
	for {
		head, err := ec.HeaderByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		fin, err1 := ec.HeaderByNumber(ctx, big.NewInt(-3))  // the finalized tag
		safe, err2 := ec.HeaderByNumber(ctx, big.NewInt(-4)) // the safe tag
		if err1 != nil || err2 != nil {
			t.Fatalf("finalized: %v, safe: %v", err1, err2)
		}
		again, err := ec.HeaderByNumber(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if again.Hash() != head.Hash() {
			continue // a block came between the calls
		}
		if fin.Hash() != head.Hash() || safe.Hash() != head.Hash() {
			t.Fatalf("finalized %d, safe %d, head %d: a committed block is final at once", fin.Number, safe.Number, head.Number)
		}
		return
	}
}

// TestBFTDevNode: chaind node --dev --consensus bft commits a transfer sent
// over JSON-RPC in a block, the finalized and safe tags are the head, and
// a block without its commit is refused.
func TestBFTDevNode(t *testing.T) {
	n, g, key := startBFTDevNode(t, t.TempDir())
	ec, err := ethclient.Dial(n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	to := common.Address{0xbf, 0x70}
	rc := sendTransfer(t, ec, g, key, 0, to, 777)
	if bal, err := ec.BalanceAt(context.Background(), to, nil); err != nil || bal.Int64() != 777 {
		t.Fatalf("balance %v, %v", bal, err)
	}
	if num, err := ec.BlockNumber(context.Background()); err != nil || num < rc.BlockNumber.Uint64() {
		t.Fatalf("block number %d (%v), the transfer is in block %d", num, err, rc.BlockNumber)
	}
	checkFinalAtHead(t, ec)

	b, err := n.Chain().BlockByHeight(rc.BlockNumber.Uint64())
	if err != nil {
		t.Fatal(err)
	}
	h := *b.Header
	h.Time++
	forged := *b
	forged.Header, forged.Proof = &h, nil
	if err := n.Chain().InsertBlock(&forged); !errors.Is(err, chain.ErrBadProof) {
		t.Fatalf("a block without a commit: insert gives %v, want %v", err, chain.ErrBadProof)
	}
}

// TestBFTDevNodeRestart: a BFT dev node stopped and started again on its
// data directory replays its write-ahead log and goes on committing, on
// the chain it had.
func TestBFTDevNodeRestart(t *testing.T) {
	dir := t.TempDir()
	cfg, g, key := bftDevConfig(t, dir)
	n, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	ec, err := ethclient.Dial(n.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	to := common.Address{0xbf, 0x71}
	first := sendTransfer(t, ec, g, key, 0, to, 1)
	ec.Close()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n, g, key = startBFTDevNode(t, dir)
	if ec, err = ethclient.Dial(n.RPCURL()); err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	second := sendTransfer(t, ec, g, key, 1, to, 2)
	if second.BlockNumber.Cmp(first.BlockNumber) <= 0 {
		t.Fatalf("after the restart the transfer is in block %d, the first was in %d", second.BlockNumber, first.BlockNumber)
	}
	if bal, err := ec.BalanceAt(context.Background(), to, nil); err != nil || bal.Int64() != 3 {
		t.Fatalf("balance %v (%v), want both transfers", bal, err)
	}
	checkFinalAtHead(t, ec)
}

// TestBFTFollower: a node without a validator key follows a BFT dev chain
// over the in-memory network: it takes each block with the commit sent
// beside it, and its finalized block is its head; its bft_status has no state
// machine and the head's commit, by the one validator.
func TestBFTFollower(t *testing.T) {
	cfg, g, _ := bftDevConfig(t, t.TempDir())
	net := memnet.New(nil, 1)
	cfg.P2PAddr, cfg.P2PTransport = "10.0.0.1:30303", net.Host("10.0.0.1")
	dev := runNode(t, cfg)
	follower := runNode(t, node.Config{DataDir: t.TempDir(), Genesis: g, RPCAddr: "127.0.0.1:0", P2PAddr: "10.0.0.2:30303",
		P2PTransport: net.Host("10.0.0.2"), Peers: []string{"10.0.0.1:30303"}, Logger: slog.New(slog.DiscardHandler)})
	poll.Until(t, time.Minute, "the follower to take 3 committed blocks", func() bool {
		h := dev.Chain().Head()
		return h.Height() >= 3 && follower.Chain().GetHeader(h.Hash()) != nil
	})
	poll.Until(t, time.Minute, "the follower's finalized block to be its head", func() bool {
		fin, _, ok := follower.Chain().Finality()
		return ok && fin == follower.Chain().Head().Hash()
	})
	// It runs no state machine, but shows the commits it follows.
	var st bftStatus
	if err := rpc.NewClient(follower.RPCURL()).Call(context.Background(), &st, "bft_status"); err != nil {
		t.Fatal(err)
	}
	if st.Machine != nil || st.LastCommit == nil || len(st.LastCommit.Precommitted) != 1 {
		t.Fatalf("the follower's bft_status: %+v", st)
	}
}

// TestBFTDataDirWithCommitInSealRefused: a dev data directory made by the
// chaind whose BFT blocks carried their commit in the seal (testdata, made
// by `chaind node --dev --consensus bft` at commit 6dd23d8, 7 blocks) is
// refused with a message that says why and what to do, instead of a node
// whose producer stops at its next block.
func TestBFTDataDirWithCommitInSealRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "bft-commit-in-seal"))); err != nil {
		t.Fatal(err)
	}
	cfg, _, _ := bftDevConfig(t, dir)
	n, err := node.New(cfg)
	if err == nil {
		n.Close()
		t.Fatal("a node started on a data directory whose BFT blocks carry their commit in the seal")
	}
	if !strings.Contains(err.Error(), "has no commit stored beside it") || !strings.Contains(err.Error(), "start a new chain") {
		t.Fatalf("unclear refusal: %v", err)
	}
}
