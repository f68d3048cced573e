package node

import (
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/pow"
	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/crypto"
)

// Dev chain parameters.
const (
	DevChainID   = 1337
	devBlockTime = time.Second
)

// DevBalance is what the dev account holds at genesis: one million ether.
var DevBalance = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))

// DevMnemonic is the BIP-39 mnemonic of the dev chain's unlocked accounts:
// anvil's and hardhat's, so that the accounts (and keys) tools and
// tutorials expect are there: 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
// first.
const DevMnemonic = "test test test test test test test test test test test junk"

// DevMnemonicAccounts is how many accounts a dev chain derives from
// DevMnemonic, at m/44'/60'/0'/0/i, as anvil does.
const DevMnemonicAccounts = 10

// DevMnemonicBalance is what each mnemonic account holds at genesis: ten
// thousand ether, as on anvil.
var DevMnemonicBalance = new(big.Int).Mul(big.NewInt(10_000), big.NewInt(1e18))

// DevMnemonicKeys derives the DevMnemonicAccounts keys of DevMnemonic.
func DevMnemonicKeys() ([]*ecdsa.PrivateKey, error) {
	seed, err := wallet.MnemonicSeed(DevMnemonic, "")
	if err != nil {
		return nil, err
	}
	keys := make([]*ecdsa.PrivateKey, DevMnemonicAccounts)
	for i := range keys {
		path := slices.Clone(accounts.DefaultBaseDerivationPath)
		path[len(path)-1] = uint32(i)
		if keys[i], err = wallet.DeriveKey(seed, path); err != nil {
			return nil, fmt.Errorf("dev mnemonic account %d: %w", i, err)
		}
	}
	return keys, nil
}

// DevAccounts are the keys a dev node holds unlocked, so that
// eth_accounts, eth_sendTransaction, eth_signTransaction and eth_sign work
// as on geth --dev and anvil: the mnemonic's accounts, then the dev
// account (devKey, DIR/dev.key).
func DevAccounts(devKey *ecdsa.PrivateKey) ([]*ecdsa.PrivateKey, error) {
	keys, err := DevMnemonicKeys()
	if err != nil {
		return nil, err
	}
	return append(keys, devKey), nil
}

// DevStake is what the dev account stakes on a PoS dev chain, as its only
// validator.
var DevStake = new(big.Int).Mul(big.NewInt(32), big.NewInt(1e18))

// DevSetup returns the dev chain of dataDir: the genesis and the funded key
// saved in DIR/genesis.json and DIR/dev.key, created on first use with the
// given consensus (an engine of engines.Names(); "" is the first, PoW).
// The genesis also funds DevMnemonic's accounts with DevMnemonicBalance
// each (a chain made before they were added does not).
// A PoW chain is made for a miner held to a declared hash rate (see
// engines.Hashrate): hashrate when positive, else half of what threads can do on
// this machine (pow.Capacity, the best of several probes, so a busy moment
// does not lower it). Its difficulty is that rate times the block time, so
// blocks come once a second from the first one on, however busy the machine
// gets later, as long as it can supply the rate. On a PoS chain the
// producer key (DevCoinbase) is the one validator, with one-second slots:
// blocks come on time and no CPU goes to hashing. An existing dev chain
// keeps its consensus; asking for the other one is an error.
func DevSetup(dataDir string, threads int, consensus string, hashrate float64) (*chain.Genesis, *ecdsa.PrivateKey, error) {
	e, err := engines.Lookup(consensus)
	if err != nil {
		return nil, nil, fmt.Errorf("dev chain: %w", err)
	}
	consensus = e.Name
	genesisPath := filepath.Join(dataDir, "genesis.json")
	key, created, err := loadOrCreateKey(filepath.Join(dataDir, "dev.key"))
	if err != nil {
		return nil, nil, err
	}
	if !created {
		g, err := chain.LoadGenesis(genesisPath)
		if errors.Is(err, chain.ErrFlatGenesis) {
			return nil, nil, fmt.Errorf("dev chain in %s was made by a chaind before engine sections in genesis files, and its genesis hash is another now: use another data directory (%w)", dataDir, err)
		} else if err != nil {
			return nil, nil, err
		}
		if g.Consensus != consensus {
			return nil, nil, fmt.Errorf("dev chain in %s runs %s, not %s: use another data directory", dataDir, g.Consensus, consensus)
		}
		return g, key, nil
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	spec := engines.Spec{
		Consensus: consensus,
		ChainID:   DevChainID,
		Timestamp: uint64(time.Now().UnixMilli()),
		ExtraData: "chaind dev chain",
		BlockTime: devBlockTime,
		Alloc:     chain.Alloc{addr: {Balance: chain.NewBigInt(DevBalance)}},
	}
	mnemonicKeys, err := DevMnemonicKeys()
	if err != nil {
		return nil, nil, err
	}
	for _, k := range mnemonicKeys {
		spec.Alloc[crypto.PubkeyToAddress(k.PublicKey)] = chain.GenesisAccount{Balance: chain.NewBigInt(DevMnemonicBalance)}
	}
	if e.Producers == engines.Validators {
		producer, err := DevCoinbase(dataDir)
		if err != nil {
			return nil, nil, err
		}
		spec.Validators = []engines.Validator{{Address: crypto.PubkeyToAddress(producer.PublicKey), Stake: DevStake}}
	} else {
		if threads <= 0 {
			threads = runtime.NumCPU()
		}
		if hashrate <= 0 {
			hashrate = pow.Capacity(threads) / 2
		}
		spec.Difficulty = engines.DifficultyFor(hashrate, devBlockTime)
	}
	g, err := engines.Genesis(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("dev chain: %w", err)
	}
	if err := g.Write(genesisPath); err != nil {
		return nil, nil, err
	}
	return g, key, nil
}

// DevCoinbase is the key of the dev chain's block producer (the PoW
// coinbase, the PoS validator), in DIR/coinbase.key, created on first use.
// It is not the funded dev account, so that account's balance changes only
// by what it sends.
func DevCoinbase(dataDir string) (*ecdsa.PrivateKey, error) {
	key, _, err := loadOrCreateKey(filepath.Join(dataDir, "coinbase.key"))
	return key, err
}

// loadOrCreateKey reads the hex key at path, or generates one and saves it
// there (mode 0600) if the file does not exist.
func loadOrCreateKey(path string) (key *ecdsa.PrivateKey, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(string(data)), "0x"))
		if err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	if key, err = crypto.GenerateKey(); err != nil {
		return nil, false, fmt.Errorf("generate key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	if err := os.WriteFile(path, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(key))+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("write key file: %w", err)
	}
	return key, true, nil
}
