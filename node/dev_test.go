package node_test

import (
	"testing"

	"github.com/chaind/chaind/node"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestDevCoinbaseIsNotTheDevAccount: on the dev chain the rewards go to an
// address of their own, kept across restarts, so the funded dev account's
// balance changes only by what it sends.
func TestDevCoinbaseIsNotTheDevAccount(t *testing.T) {
	dir := t.TempDir()
	g, key, err := node.DevSetup(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	dev := crypto.PubkeyToAddress(key.PublicKey)
	coinbase, err := node.DevCoinbase(dir)
	if err != nil {
		t.Fatal(err)
	}
	if coinbase == dev {
		t.Fatalf("coinbase %v is the dev account", coinbase)
	}
	if _, funded := g.Alloc[coinbase]; funded {
		t.Fatal("the coinbase is funded at genesis")
	}
	again, err := node.DevCoinbase(dir)
	if err != nil || again != coinbase {
		t.Fatalf("coinbase after a restart: %v %v, want %v", again, err, coinbase)
	}
	g2, key2, err := node.DevSetup(dir, 1)
	if err != nil || crypto.PubkeyToAddress(key2.PublicKey) != dev || g2.ChainID != g.ChainID {
		t.Fatalf("dev chain after a restart: %v", err)
	}
}
