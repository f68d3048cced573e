package node_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines/enginestest"
	"github.com/chaind/chaind/node"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestDevGenesisAsBefore: DevSetup, now built through engines.Genesis, makes
// the genesis that the chaind before engine sections made for the same
// inputs (testdata/flat-genesis: a PoW chain for 5000 nonces/s and a PoS
// chain with its producer key), but for what was random or the time then:
// the dev account's address and the timestamp.
func TestDevGenesisAsBefore(t *testing.T) {
	for _, consensus := range []string{"pow", "pos"} {
		golden := filepath.Join("testdata", "flat-genesis", "dev-"+consensus)
		want := enginestest.ReadFlat(t, filepath.Join(golden, "genesis.json"))
		dir := t.TempDir()
		if consensus == "pos" {
			data, err := os.ReadFile(filepath.Join(golden, "coinbase.key"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "coinbase.key"), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		g, key, err := node.DevSetup(dir, 1, consensus, 5000)
		if err != nil {
			t.Fatal(err)
		}
		old := goldenDevAddress(t, golden)
		want.Alloc[crypto.PubkeyToAddress(key.PublicKey)] = want.Alloc[old]
		delete(want.Alloc, old)
		g.Timestamp = want.Timestamp
		enginestest.SameGenesis(t, g, want)
	}
}

// goldenDevAddress is the dev account of the golden genesis: the address
// of the dev.key saved beside it.
func goldenDevAddress(t *testing.T, golden string) common.Address {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(golden, "dev.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(string(data)), "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return crypto.PubkeyToAddress(k.PublicKey)
}

// TestDevChainFromBeforeSectionsRefused: a dev data directory whose
// genesis.json has the flat layout of before engine sections is refused
// with chain.ErrFlatGenesis and the advice to use another directory, not
// read as some other chain.
func TestDevChainFromBeforeSectionsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"genesis.json", "dev.key"} {
		data, err := os.ReadFile(filepath.Join("testdata", "flat-genesis", "dev-pow", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := node.DevSetup(dir, 1, "pow", 5000)
	if !errors.Is(err, chain.ErrFlatGenesis) || !strings.Contains(err.Error(), "use another data directory") {
		t.Fatalf("DevSetup on a flat genesis: %v", err)
	}
}
