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
	if s.opts.Consensus == chain.ConsensusPoS {
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
	ether := func(n int64) *chain.BigInt { return chain.NewBigInt(new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18))) }
	g := &chain.Genesis{
		ChainID:   TestnetChainID,
		Consensus: s.opts.Consensus,
		Timestamp: uint64(time.Now().UnixMilli()), // wall-clock: the nodes are processes that check block times against it
		ExtraData: fmt.Sprintf("chaind testnet of %d nodes", s.opts.Nodes),
		Alloc:     chain.Alloc{crypto.PubkeyToAddress(key.PublicKey): {Balance: ether(1e6)}},
	}
	if s.opts.Consensus == chain.ConsensusPoS {
		g.SlotTime, g.EpochLength = chain.Duration(s.opts.BlockTime), s.opts.EpochLength
		if s.opts.NoFinality {
			off := false
			g.Finality = &off
		}
		for i, v := range s.coinbases {
			g.Validators = append(g.Validators, chain.GenesisValidator{Address: v, Stake: ether(s.opts.Stakes[i])})
			g.Alloc[v] = chain.GenesisAccount{Balance: ether(100)} // for the fees of finality votes
		}
	} else {
		rate, err := declareHashrate(&s.opts)
		if err != nil {
			return err
		}
		g.BlockTime = chain.Duration(s.opts.BlockTime)
		g.Difficulty = chain.NewBigInt(big.NewInt(max(int64(rate*s.opts.BlockTime.Seconds()), 1)))
	}
	g.FillDefaults()
	if err := g.Write(s.gpath); err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, []byte("0x"+hex.EncodeToString(crypto.FromECDSA(key))+"\n"), 0o600); err != nil {
		return fmt.Errorf("testnet: write funded key: %w", err)
	}
	s.genesis, s.funded = g, key
	return nil
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
