package rpc

import (
	"errors"
	"log/slog"
	"math/big"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/p2p"
	"github.com/ethereum/go-ethereum/common"
)

// Miner is the miner control the chaind_ methods need.
type Miner interface {
	Start()
	Stop()
	Mining() bool
	Hashrate() float64
	Threads() int
	Coinbase() common.Address
}

// Config is what the API serves from.
type Config struct {
	Chain   *chain.Chain  // required
	Pool    *mempool.Pool // required
	Miner   Miner         // optional: nil on a node that does not mine
	P2P     *p2p.Server   // optional: nil on a node without networking
	Version string        // for web3_clientVersion
	Logger  *slog.Logger  // optional
}

// api holds the handlers; each namespace lives in its own file.
type api struct {
	Config
	heads *headLog

	tipMu   sync.Mutex // guards the suggested tip, cached per head
	tipHead common.Hash
	tip     *big.Int
}

// New returns a server with every chaind method registered.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil || cfg.Pool == nil {
		return nil, errors.New("rpc: Chain and Pool are required")
	}
	s := NewServer(cfg.Logger)
	a := &api{Config: cfg, heads: newHeadLog(cfg.Chain)}
	var errs []error
	for _, group := range []map[string]any{a.ethMethods(), a.netMethods(), a.txpoolMethods(), a.chaindMethods(), a.adminMethods(), a.posMethods()} {
		for name, fn := range group {
			errs = append(errs, s.Register(name, fn))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}
