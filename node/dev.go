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
	"github.com/ethereum/go-ethereum/common"
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
// initial difficulty is calibrated to this machine's hashrate so that the
// first blocks already come about once a second; ASERT keeps them there.
func DevSetup(dataDir string, threads int) (*chain.Genesis, *ecdsa.PrivateKey, error) {
	genesisPath := filepath.Join(dataDir, "genesis.json")
	key, created, err := loadOrCreateKey(filepath.Join(dataDir, "dev.key"))
	if err != nil {
		return nil, nil, err
	}
	if !created {
		g, err := chain.LoadGenesis(genesisPath)
		if err != nil {
			return nil, nil, err
		}
		return g, key, nil
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	rate, _ := pow.MeasureHashrate(threads, 200*time.Millisecond)
	difficulty := big.NewInt(max(int64(rate*devBlockTime.Seconds()), 1))
	addr := crypto.PubkeyToAddress(key.PublicKey)
	g := &chain.Genesis{
		ChainID:    DevChainID,
		Consensus:  chain.ConsensusPoW,
		BlockTime:  chain.Duration(devBlockTime),
		HalfLife:   chain.Duration(10 * devBlockTime),
		Difficulty: chain.NewBigInt(difficulty),
		Timestamp:  uint64(time.Now().UnixMilli()),
		ExtraData:  "chaind dev chain",
		Alloc:      chain.Alloc{addr: {Balance: chain.NewBigInt(new(big.Int).Set(DevBalance))}},
	}
	g.FillDefaults()
	if err := g.Write(genesisPath); err != nil {
		return nil, nil, err
	}
	return g, key, nil
}

// DevCoinbase is the dev chain's mining address: the key in
// DIR/coinbase.key, created on first use. It is not the funded dev account,
// so that account's balance changes only by what it sends.
func DevCoinbase(dataDir string) (common.Address, error) {
	key, _, err := loadOrCreateKey(filepath.Join(dataDir, "coinbase.key"))
	if err != nil {
		return common.Address{}, err
	}
	return crypto.PubkeyToAddress(key.PublicKey), nil
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
