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
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/pow"
	"github.com/ethereum/go-ethereum/crypto"
)

// Dev chain parameters.
const (
	DevChainID   = 1337
	devBlockTime = time.Second
)

// DevBalance is what the dev account holds at genesis: one million ether.
var DevBalance = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))

// DevSetup returns the dev chain of dataDir: the genesis and the funded key
// saved in DIR/genesis.json and DIR/dev.key, created on first use. The
// chain is made for a miner held to a declared hash rate (see DevHashrate):
// hashrate when positive, else half of what threads can do on this machine
// (pow.Capacity, the best of several probes, so a busy moment does not
// lower it). Its difficulty is that rate times the block time, so blocks
// come once a second from the first one on, however busy the machine gets
// later, as long as it can supply the rate.
func DevSetup(dataDir string, threads int, hashrate float64) (*chain.Genesis, *ecdsa.PrivateKey, error) {
	genesisPath := filepath.Join(dataDir, "genesis.json")
	keyPath := filepath.Join(dataDir, "dev.key")
	if _, err := os.Stat(keyPath); err == nil {
		data, err := os.ReadFile(keyPath)
		if err != nil {
			return nil, nil, fmt.Errorf("read dev key: %w", err)
		}
		key, err := crypto.HexToECDSA(strings.TrimPrefix(strings.TrimSpace(string(data)), "0x"))
		if err != nil {
			return nil, nil, fmt.Errorf("dev key %s: %w", keyPath, err)
		}
		g, err := chain.LoadGenesis(genesisPath)
		if err != nil {
			return nil, nil, err
		}
		return g, key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("dev key: %w", err)
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, nil, fmt.Errorf("generate dev key: %w", err)
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if hashrate <= 0 {
		hashrate = pow.Capacity(threads) / 2
	}
	difficulty := big.NewInt(max(int64(hashrate*devBlockTime.Seconds()), 1))
	addr := crypto.PubkeyToAddress(key.PublicKey)
	g := &chain.Genesis{
		ChainID:    DevChainID,
		Consensus:  chain.ConsensusPoW,
		BlockTime:  chain.Duration(devBlockTime),
		Difficulty: chain.NewBigInt(difficulty),
		Timestamp:  uint64(time.Now().UnixMilli()),
		ExtraData:  "chaind dev chain",
		Alloc:      chain.Alloc{addr: {Balance: chain.NewBigInt(new(big.Int).Set(DevBalance))}},
	}
	g.FillDefaults()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := g.Write(genesisPath); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(keyPath, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(key))+"\n"), 0o600); err != nil {
		return nil, nil, fmt.Errorf("write dev key: %w", err)
	}
	return g, key, nil
}

// DevHashrate is the hash rate a dev chain was made for: its genesis
// difficulty per block time. A dev node holds its miner to it unless told
// otherwise.
func DevHashrate(g *chain.Genesis) float64 {
	d, _ := new(big.Float).SetInt(g.Difficulty.Big()).Float64()
	return d / g.BlockTime.D().Seconds()
}
