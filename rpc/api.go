package rpc

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/mempool"
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

// NamespaceProvider is implemented by a consensus engine that serves
// methods of its own (the PoS engine's chaind_finality, for example). The
// handlers have the shape Server.Register takes. A namespace of the
// engine's own (not one of the server's) is served with "chaind", the
// node's own views, or when named.
type NamespaceProvider interface {
	RPCMethods(c *chain.Chain) map[string]any
}

// Namespaces a node serves unless told otherwise, and those added to them
// on a dev chain: the control namespaces "miner" (chaind_minerStart,
// chaind_minerStop) and "admin" (peers, adding peers), and "debug" (geth's
// raw block, header, transaction and receipt readers). The "link" namespace
// (the node's own link faults) is served only when asked for.
var (
	DefaultAPIs = []string{"eth", "net", "web3", "txpool", "chaind", "rpc"}
	DevAPIs     = append(slices.Clone(DefaultAPIs), "admin", "miner", "debug")
)

// controlMethods are the methods of the chaind_ namespace that change what
// the node does; they belong to the "miner" namespace for --rpc.api.
var controlMethods = map[string]string{"chaind_minerStart": "miner", "chaind_minerStop": "miner"}

// namespaceOf is the --rpc.api namespace of a method.
func namespaceOf(method string) string {
	if ns, ok := controlMethods[method]; ok {
		return ns
	}
	ns, _, _ := strings.Cut(method, "_")
	return ns
}

// Config is what the API serves from.
type Config struct {
	Chain   *chain.Chain  // required
	Pool    *mempool.Pool // required
	Miner   Miner         // optional: nil on a node that does not mine
	Network Network       // optional: nil on a node without networking
	Links   LinkFaults    // optional: nil on a node that shapes no links
	Version string        // for web3_clientVersion
	// Keys are the unlocked accounts (a dev chain's): eth_accounts lists
	// them, and eth_sendTransaction, eth_signTransaction and eth_sign
	// sign with them. nil on a real node, where those refuse.
	Keys []*ecdsa.PrivateKey
	// APIs are the namespaces served; nil means DefaultAPIs.
	APIs   []string
	Server ServerConfig // limits, hosts, origins, the clock and the Observe hook
}

// api holds the handlers; each namespace lives in its own file.
type api struct {
	Config
	log     *slog.Logger
	heads   *headLog
	feeds   *feeds
	filters *filters
	modules map[string]string

	tipMu   sync.Mutex // guards the suggested tip, cached per head
	tipHead common.Hash
	tip     *big.Int
}

// New returns a server with the methods of the configured namespaces.
func New(cfg Config) (*Server, error) {
	if cfg.Chain == nil || cfg.Pool == nil {
		return nil, errors.New("rpc: Chain and Pool are required")
	}
	if cfg.APIs == nil {
		cfg.APIs = DefaultAPIs
	}
	s := NewServerWith(cfg.Server)
	a := &api{Config: cfg, log: s.log, heads: newHeadLog(cfg.Chain, s.cfg.Clock), modules: make(map[string]string)}
	a.filters = newFilters(s.cfg.Clock)
	a.feeds = newFeeds(a, s.hub)
	enabled := make(map[string]bool)
	for _, ns := range cfg.APIs {
		enabled[strings.TrimSpace(ns)] = true
	}
	groups := []map[string]any{a.ethMethods(), a.blockIndexMethods(), a.filterMethods(), a.subscriptionMethods(),
		a.netMethods(), a.txpoolMethods(), a.chaindMethods(), a.adminMethods(), a.linkMethods(), a.rpcMethods(), a.accountMethods(), a.debugMethods()}
	known := make(map[string]bool)
	for _, group := range groups {
		for name := range group {
			known[namespaceOf(name)] = true
		}
	}
	if p, ok := cfg.Chain.Engine().(NamespaceProvider); ok {
		methods := p.RPCMethods(cfg.Chain)
		for name := range methods {
			if ns := namespaceOf(name); !known[ns] && enabled["chaind"] {
				enabled[ns] = true
			}
		}
		groups = append(groups, methods)
	}
	var errs []error
	for _, group := range groups {
		for name, fn := range group {
			ns := namespaceOf(name)
			known[ns] = true
			if enabled[ns] {
				errs = append(errs, s.Register(name, fn))
				a.modules[ns] = "1.0"
			}
		}
	}
	for ns := range enabled {
		if !known[ns] {
			errs = append(errs, fmt.Errorf("rpc: unknown API namespace %q", ns))
		}
	}
	if enabled["eth"] {
		errs = append(errs, s.RegisterPreparer("eth_sendRawTransaction", a.prepareRawTransactions))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func (a *api) rpcMethods() map[string]any {
	return map[string]any{
		"rpc_modules": func(context.Context) (map[string]string, error) { return a.modules, nil },
	}
}
