package wallet

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// TestDeriveKeyFromMnemonic: the accounts anvil and hardhat print for
// their default mnemonic, m/44'/60'/0'/0/i.
func TestDeriveKeyFromMnemonic(t *testing.T) {
	seed, err := MnemonicSeed("test test test test test test test test test test test junk", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		index      int
		addr, priv string
	}{
		{0, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"},
		{1, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"},
		{9, "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720", "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"},
	} {
		path, err := accounts.ParseDerivationPath("m/44'/60'/0'/0/" + string(rune('0'+c.index)))
		if err != nil {
			t.Fatal(err)
		}
		key, err := DeriveKey(seed, path)
		if err != nil {
			t.Fatal(err)
		}
		if got := crypto.PubkeyToAddress(key.PublicKey); got != common.HexToAddress(c.addr) {
			t.Errorf("account %d: %v, want %s", c.index, got, c.addr)
		}
		if got := hexutil.Encode(crypto.FromECDSA(key)); got != c.priv {
			t.Errorf("account %d key: %s, want %s", c.index, got, c.priv)
		}
	}
}

// TestMnemonicSeedRefusals: non-ASCII words and seeds of a wrong length.
func TestMnemonicSeedRefusals(t *testing.T) {
	if _, err := MnemonicSeed("tést", ""); err == nil || !strings.Contains(err.Error(), "ASCII") {
		t.Fatalf("non-ASCII mnemonic: %v", err)
	}
	if _, err := DeriveKey(make([]byte, 8), accounts.DefaultRootDerivationPath); err == nil {
		t.Fatal("an 8-byte seed was accepted")
	}
}
