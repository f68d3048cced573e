package testnet

// Setting a testnet up on disk: its genesis, funded key, validator keys
// and data directories.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// prepare writes the genesis, the funded key and the data directories, or
// reuses them when the directory already holds a testnet.
func (s *Supervisor) prepare() error {
	dir := s.opts.Dir
	s.gpath = filepath.Join(dir, "genesis.json")
	keyPath := filepath.Join(dir, "funded.key")
	if s.opts.engine().Producers == engines.Validators {
		if err := s.validatorKeys(); err != nil {
			return err
		}
	} else {
		for i := 0; i < s.opts.Nodes; i++ {
			s.coinbases = append(s.coinbases, common.BigToAddress(big.NewInt(int64(0xc0000+i))))
		}
	}
	if _, err := os.Stat(s.gpath); err == nil {
		g, err := chain.LoadGenesis(s.gpath)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(keyPath)
		if err != nil {
			return fmt.Errorf("testnet: %w", err)
		}
		key, err := crypto.HexToECDSA(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(data)), "0x")))
		if err != nil {
			return fmt.Errorf("testnet: funded key: %w", err)
		}
		s.genesis, s.funded = g, key
		return nil
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		return err
	}
	g, err := s.newGenesis(crypto.PubkeyToAddress(key.PublicKey), uint64(time.Now().UnixMilli())) // wall-clock: the nodes are processes that check block times against it
	if err != nil {
		return err
	}
	if err := g.Write(s.gpath); err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(key))+"\n"), 0o600); err != nil {
		return fmt.Errorf("testnet: write funded key: %w", err)
	}
	s.genesis, s.funded = g, key
	return nil
}

// newGenesis is the genesis of a new testnet made at timestamp: the
// funded account holds a million ether; PoS validators are the coinbases,
// with opts' stakes and 100 ether each for the fees of their votes; a PoW
// chain's difficulty is the hash rate the machine can supply per block time.
func (s *Supervisor) newGenesis(funded common.Address, timestamp uint64) (*chain.Genesis, error) {
	spec := engines.Spec{
		Consensus: s.opts.Consensus,
		ChainID:   TestnetChainID,
		Timestamp: timestamp,
		ExtraData: fmt.Sprintf("chaind testnet of %d nodes", s.opts.Nodes),
		BlockTime: s.opts.BlockTime,
		Alloc:     chain.Alloc{funded: {Balance: chain.NewBigInt(engines.Ether(1e6))}},
	}
	if s.opts.engine().Producers == engines.Validators {
		spec.EpochLength, spec.NoFinality = s.opts.EpochLength, s.opts.NoFinality
		for i, v := range s.coinbases {
			spec.Validators = append(spec.Validators, engines.Validator{Address: v, Stake: engines.Ether(s.opts.Stakes[i]), Balance: engines.Ether(100)})
		}
	} else {
		rate, err := declareHashrate(&s.opts)
		if err != nil {
			return nil, err
		}
		spec.Difficulty = engines.DifficultyFor(rate, s.opts.BlockTime)
	}
	return engines.Genesis(spec)
}

// passwordFile holds the password of the validators' keystore files.
const passwordFile = "password.txt"

func (s *Supervisor) validatorKeyPath(i int) string {
	return filepath.Join(s.nodeDir(i), "validator.json")
}

// validatorKeys creates (or reads) one keystore file per node and sets the
// coinbases to the validators' addresses.
func (s *Supervisor) validatorKeys() error {
	pwPath := filepath.Join(s.opts.Dir, passwordFile)
	if _, err := os.Stat(pwPath); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(pwPath, []byte("chaind-testnet\n"), 0o600); err != nil {
			return err
		}
	}
	for i := 0; i < s.opts.Nodes; i++ {
		path := s.validatorKeyPath(i)
		if addr, err := wallet.KeyFileAddress(path); err == nil {
			s.coinbases = append(s.coinbases, addr)
			continue
		}
		key, err := crypto.GenerateKey()
		if err != nil {
			return err
		}
		ks := wallet.Keystore{Dir: s.nodeDir(i), ScryptN: keystore.LightScryptN, ScryptP: keystore.LightScryptP}
		e, err := ks.Import(key, "chaind-testnet")
		if err != nil {
			return err
		}
		if err := os.Rename(e.Path, path); err != nil {
			return err
		}
		s.coinbases = append(s.coinbases, e.Address)
	}
	return nil
}
