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

// DevStake is what the dev account stakes on a PoS dev chain, as its only
// validator.
var DevStake = new(big.Int).Mul(big.NewInt(32), big.NewInt(1e18))

// DevSetup returns the dev chain of dataDir: the genesis and the funded key
// saved in DIR/genesis.json and DIR/dev.key, created on first use with the
// given consensus (chain.ConsensusPoW or chain.ConsensusPoS; "" is PoW).
// For PoW the initial difficulty is calibrated to this machine's hashrate so
// that the first blocks already come about once a second, and ASERT keeps
// them there. For PoS the dev account is the one validator, with one-second
// slots: blocks come on time and no CPU goes to hashing. An existing dev
// chain keeps its consensus; asking for the other one is an error.
func DevSetup(dataDir string, threads int, consensus string) (*chain.Genesis, *ecdsa.PrivateKey, error) {
	if consensus == "" {
		consensus = chain.ConsensusPoW
	}
	if consensus != chain.ConsensusPoW && consensus != chain.ConsensusPoS {
		return nil, nil, fmt.Errorf("dev chain: consensus %q: want %s or %s", consensus, chain.ConsensusPoW, chain.ConsensusPoS)
	}
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
		if g.Consensus != consensus {
			return nil, nil, fmt.Errorf("dev chain in %s runs %s, not %s: use another data directory", dataDir, g.Consensus, consensus)
		}
		return g, key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("dev key: %w", err)
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		return nil, nil, fmt.Errorf("generate dev key: %w", err)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	g := &chain.Genesis{
		ChainID:   DevChainID,
		Consensus: consensus,
		Timestamp: uint64(time.Now().UnixMilli()),
		ExtraData: "chaind dev chain",
		Alloc:     chain.Alloc{addr: {Balance: chain.NewBigInt(new(big.Int).Set(DevBalance))}},
	}
	if consensus == chain.ConsensusPoS {
		g.SlotTime = chain.Duration(devBlockTime)
		g.Validators = []chain.GenesisValidator{{Address: addr, Stake: chain.NewBigInt(new(big.Int).Set(DevStake))}}
	} else {
		if threads <= 0 {
			threads = runtime.NumCPU()
		}
		rate, _ := pow.MeasureHashrate(threads, 200*time.Millisecond)
		g.BlockTime, g.HalfLife = chain.Duration(devBlockTime), chain.Duration(10*devBlockTime)
		g.Difficulty = chain.NewBigInt(big.NewInt(max(int64(rate*devBlockTime.Seconds()), 1)))
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
