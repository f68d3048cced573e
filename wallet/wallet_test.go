package wallet

import (
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestParseAmount(t *testing.T) {
	tests := map[string]string{
		"1000":     "1000",
		"0x3e8":    "1000",
		"1.5eth":   "1500000000000000000",
		"2 ether":  "2000000000000000000",
		"20gwei":   "20000000000",
		"0.5gwei":  "500000000",
		"7wei":     "7",
		"1e-18eth": "1",
	}
	for in, want := range tests {
		got, err := ParseAmount(in)
		if err != nil || got.String() != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5", "0.1wei", "abc", "1 btc", "002E1000000", "1e-1000000000", "1p99999999", "2e78eth"} {
		if _, err := ParseAmount(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestKeystoreRoundTrip(t *testing.T) {
	ks := Keystore{Dir: t.TempDir(), ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}
	e, err := ks.New("pw")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ks.Unlock(e.Address, "pw")
	if err != nil || crypto.PubkeyToAddress(key.PublicKey) != e.Address {
		t.Fatalf("unlock: %v", err)
	}
	if _, err := ks.Unlock(e.Address, "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if _, err := ks.Unlock(common.Address{1}, "pw"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("unknown address: %v", err)
	}
	imported, err := ParseHexKey("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Import(imported, "pw2"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Import(imported, "pw2"); err == nil {
		t.Fatal("duplicate import accepted")
	}
	list, err := ks.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("list: %v %v", list, err)
	}
}

func TestSignedTransfersRecoverToTheKey(t *testing.T) {
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	chainID := big.NewInt(1337)
	for _, legacy := range []bool{false, true} {
		tx, err := Transfer{ChainID: chainID, Nonce: 3, To: common.Address{9}, Value: big.NewInt(5),
			TipCap: big.NewInt(1), FeeCap: big.NewInt(2e9), Legacy: legacy}.Sign(key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := types.Sender(types.LatestSignerForChainID(chainID), tx)
		if err != nil || got != from || tx.ChainId().Cmp(chainID) != 0 || tx.Gas() != TransferGas {
			t.Fatalf("legacy=%v: sender %s %v", legacy, got.Hex(), err)
		}
		if legacy && !tx.Protected() {
			t.Fatal("legacy transfer is not EIP-155 protected")
		}
	}
}
