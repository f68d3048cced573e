package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/explorer"
	"github.com/chaind/chaind/linkmodel"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/metrics"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/linkfault"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/pow"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Version is chaind's version string.
const Version = "0.1.0"

// Default listen addresses.
const (
	DefaultRPCAddr = "127.0.0.1:8545"
	DefaultP2PAddr = "127.0.0.1:30303"
)

// Config configures a node.
type Config struct {
	DataDir string         // required: holds chaindata/ (LevelDB) and keystore/
	Genesis *chain.Genesis // optional on a data directory that already has a chain
	RPCAddr string         // optional: DefaultRPCAddr; port 0 picks a free port
	// Mine starts the miner at start-up; it needs Coinbase.
	Mine         bool
	MinerThreads int // optional: one per CPU
	// MinerHashrate holds the miner to this many nonces per second over
	// all its threads; optional, 0: as fast as the CPU goes.
	MinerHashrate float64
	Coinbase      common.Address // receives mined rewards and fees
	MinGasPrice   *big.Int       // optional: the genesis base fee
	Logger        *slog.Logger   // optional: slog.Default()
	Clock         clock.Clock    // optional: clock.Real

	// P2PAddr is where peers connect; "" does not listen; port 0 picks a
	// free port. A taken port fails Start, as RPCAddr's does.
	P2PAddr    string
	Peers      []string // static peers, redialled with backoff
	Bootnodes  []string // addresses to learn the network from
	MaxPeers   int      // optional: 25
	NoDiscover bool     // dial only Peers and Bootnodes
	// TrustLoopback exempts loopback peers from the per-IP and per-group
	// limits (p2p.Config.TrustLoopback); a local testnet sets it.
	TrustLoopback bool
	// P2PTransport carries peer connections; optional: TCP. The in-memory
	// p2p/memnet runs nodes in one process.
	P2PTransport p2p.Transport
	// LinkFaults wraps the transport in p2p/linkfault, whose per-peer
	// shaping the link_ RPC namespace sets (a testnet's link faults).
	LinkFaults bool
	// LinkFaultSeed drives the link faults' jitter and losses; optional.
	LinkFaultSeed int64
	// Links, with LinkFaults, are the faults of the links to these peer
	// IPs from the start, before any connection (a testnet's node that
	// starts during a partition); optional.
	Links map[string]linkmodel.Params

	// UnlockedKeys are accounts the JSON-RPC server signs with
	// (eth_sendTransaction, eth_signTransaction, eth_sign) and lists
	// (eth_accounts): a dev chain's (DevAccounts), never a real node's.
	// Optional.
	UnlockedKeys []*ecdsa.PrivateKey

	// ValidatorKey makes a PoS node propose and vote; optional.
	ValidatorKey *ecdsa.PrivateKey
	// ValidatorKeys (optional, with ValidatorKey) are more keys the node's
	// validator serves: one node, many validators, one protection database.
	ValidatorKeys []*ecdsa.PrivateKey
	// Checkpoint (optional) is a trusted block: the node only accepts
	// chains that contain it (weak subjectivity).
	Checkpoint *chain.Checkpoint
	// Byzantine (optional) makes the validator misbehave, for experiments.
	Byzantine pos.Behaviour
	// ForkChoice (optional) is the PoS fork-choice rule, pos.ForkChoiceGhost
	// or pos.ForkChoiceLongest; "" is the engine's default.
	ForkChoice string

	// RPCAPIs are the JSON-RPC namespaces served; nil means rpc.DefaultAPIs
	// (no control methods). RPCVHosts and RPCCORSDomains are the allowed
	// Host names and browser origins (nil: localhost, and no origin).
	RPCAPIs        []string
	RPCVHosts      []string
	RPCCORSDomains []string
	// RPCObserve, when set, is called after every JSON-RPC call (metrics).
	RPCObserve func(method string, d time.Duration, err error)

	// Storage tunes the database: free-space reserve, retry clock, and a
	// storage layer for tests; optional (its Logger defaults to Logger).
	Storage chain.StoreOptions
}

// Node is a running chaind node.
type Node struct {
	cfg       Config
	log       *slog.Logger
	clock     clock.Clock
	store     *chain.Store
	chain     *chain.Chain
	pool      *mempool.Pool
	miner     *pow.Miner       // PoW only
	producer  engines.Producer // an engine's own producer (BFT), with a validator key
	validator *pos.Validator   // PoS with a validator key only
	// protection is the validator's slashing-protection database, in the
	// data directory (pos.ProtectionDir).
	protection *pos.Protection
	slasher    *pos.Slasher // with a validator: the headers received (SlasherDir)
	pause      *minerPause  // PoW only, once started
	p2p        *p2p.Server
	links      *linkfault.Transport // with Config.LinkFaults

	listener net.Listener
	rpc      *rpc.Server
	metrics  *metrics.Metrics
	server   *http.Server
	served   chan struct{}
}

// NodeKeyFile holds the node's p2p key inside a data directory; its public
// key is the node id peers know it by.
const NodeKeyFile = "nodekey"

// AnchorsFile, in the data directory, keeps the outbound peers of the last
// run, dialled first at start (p2p.Config.AnchorsFile).
const AnchorsFile = "anchors.json"

// The chain and the pool are what p2p needs of them.
var (
	_ p2p.Chain = (*chain.Chain)(nil)
	_ p2p.Pool  = (*mempool.Pool)(nil)
)

// ProducerDir, inside a data directory, is the engine producer's own (BFT:
// the write-ahead log, the last-signed record and the proposed blocks).
func ProducerDir(dataDir string) string { return filepath.Join(dataDir, "producer") }

// ChainDataDir is the LevelDB directory inside a data directory.
func ChainDataDir(dataDir string) string { return filepath.Join(dataDir, "chaindata") }

// New opens the data directory and builds the node's parts; Start runs them.
func New(cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("node: a data directory is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RPCAddr == "" {
		cfg.RPCAddr = DefaultRPCAddr
	}
	if cfg.Mine && cfg.Coinbase == (common.Address{}) {
		return nil, errors.New("node: mining needs a coinbase address (--miner.coinbase)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if cfg.Storage.Logger == nil {
		cfg.Storage.Logger = cfg.Logger
	}
	store, err := chain.OpenStoreWith(ChainDataDir(cfg.DataDir), cfg.Storage)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger, clock: clock.OrReal(cfg.Clock), store: store}
	if err := n.build(); err != nil {
		if n.protection != nil {
			n.protection.Close()
		}
		if n.producer != nil {
			n.producer.Close()
		}
		store.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) build() error {
	g := n.cfg.Genesis
	if g == nil {
		data, err := n.store.GenesisJSON()
		if errors.Is(err, chain.ErrNotFound) {
			return errors.New("node: the data directory has no chain yet; give a genesis file (--genesis) or use --dev")
		} else if err != nil {
			return err
		}
		if g, err = chain.ParseGenesis(data); errors.Is(err, chain.ErrFlatGenesis) {
			return fmt.Errorf("node: the data directory was made by a chaind before engine sections in genesis files, and its genesis hash is another now: start with a new data directory, or run the chaind that made it (%w)", err)
		} else if err != nil {
			return fmt.Errorf("node: stored genesis: %w", err)
		}
	}
	e, err := engines.Lookup(g.Consensus)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if len(n.cfg.ValidatorKeys) > 0 && n.cfg.ValidatorKey == nil {
		return errors.New("node: more validator keys need a first one (ValidatorKey)")
	}
	opts := engines.Options{Clock: n.clock, Threads: n.cfg.MinerThreads, Hashrate: n.cfg.MinerHashrate, ForkChoice: n.cfg.ForkChoice}
	if n.cfg.ValidatorKey != nil {
		opts.Keys = append([]*ecdsa.PrivateKey{n.cfg.ValidatorKey}, n.cfg.ValidatorKeys...)
	}
	engine, err := e.New(g, opts)
	if err != nil {
		return err
	}
	powEngine, _ := engine.(*pow.Engine)
	posEngine, _ := engine.(*pos.Engine)
	if n.cfg.Mine && powEngine == nil {
		return errors.New("node: --mine is for proof of work; a PoS node proposes with --validator.key")
	}
	c, err := chain.Open(chain.Config{Store: n.store, Genesis: g, Engine: engine, Clock: n.clock, Logger: n.log, Checkpoint: n.cfg.Checkpoint})
	if err != nil {
		return err
	}
	n.chain = c
	poolCfg := mempool.Config{Chain: c, MinGasPrice: n.cfg.MinGasPrice}
	if posEngine != nil {
		poolCfg.CheckCall = func(from common.Address, tx *types.Transaction) error {
			return posEngine.CheckSystemTx(pos.HeadState{C: c}, from, tx)
		}
	}
	n.pool = mempool.New(poolCfg)
	c.Subscribe(n.pool.Reset)
	c.Subscribe(n.logHead)
	if powEngine != nil {
		n.miner = pow.NewMiner(pow.MinerConfig{Chain: c, Engine: powEngine, Txs: n.pool, Coinbase: n.cfg.Coinbase, Logger: n.log, Clock: n.clock})
		n.pool.SubscribeNewTxs(func([]*types.Transaction) { n.miner.NotifyTxs() })
	}
	if n.cfg.Byzantine != 0 && (posEngine == nil || n.cfg.ValidatorKey == nil) {
		return errors.New("node: --validator.byzantine needs a PoS chain and --validator.key")
	}
	nodeKey, err := p2p.LoadNodeKey(filepath.Join(n.cfg.DataDir, NodeKeyFile))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	var channels []p2p.Channel
	if posEngine != nil {
		channels = n.consensusChannels(c, posEngine)
	}
	if ce, ok := engine.(channelEngine); ok {
		channels = append(channels, ce.Channels(n.relay)...)
	}
	transport := n.cfg.P2PTransport
	if n.cfg.LinkFaults {
		if transport == nil {
			transport = p2p.TCPFor(n.cfg.P2PAddr)
		}
		n.links = linkfault.New(transport, n.clock, n.cfg.LinkFaultSeed)
		for ip, p := range n.cfg.Links {
			if err := n.links.Set(ip, p); err != nil {
				return fmt.Errorf("node: %w", err)
			}
		}
		transport = n.links
	}
	n.p2p, err = p2p.New(p2p.Config{
		Chain: c, Pool: n.pool, SeenHeader: n.seenHeader, SeenBlock: n.seenBlock, Channels: channels, Key: nodeKey, Transport: transport, ListenAddr: n.cfg.P2PAddr, StaticPeers: n.cfg.Peers, Bootnodes: n.cfg.Bootnodes,
		MaxPeers: n.cfg.MaxPeers, NoDiscover: n.cfg.NoDiscover, TrustLoopback: n.cfg.TrustLoopback, Logger: n.log,
		AnchorsFile: filepath.Join(n.cfg.DataDir, AnchorsFile),
	})
	if err != nil {
		return err
	}
	if e.Producer != nil && n.cfg.ValidatorKey != nil {
		gossip := func(code byte, payload []byte) { n.relay(code, payload, "") }
		n.producer, err = e.Producer(engines.ProducerConfig{Chain: c, Txs: n.pool.Pending, Key: n.cfg.ValidatorKey,
			Dir: ProducerDir(n.cfg.DataDir), Gossip: gossip, Clock: n.clock, Logger: n.log})
		if err != nil {
			return fmt.Errorf("node: %w", err)
		}
		n.pool.SubscribeNewTxs(func([]*types.Transaction) { n.producer.NotifyTxs() })
	}
	if posEngine != nil && n.cfg.ValidatorKey != nil {
		if n.protection, err = openProtection(n.cfg.DataDir, n.cfg.ValidatorKey); err != nil {
			return fmt.Errorf("node: %w", err)
		}
		if n.slasher, err = pos.OpenSlasher(posEngine, SlasherDir(n.cfg.DataDir)); err != nil {
			return fmt.Errorf("node: %w", err)
		}
		gossip := func(code byte, payload []byte) { n.relay(code, payload, "") }
		n.validator, err = pos.NewValidator(pos.ValidatorConfig{Chain: c, Engine: posEngine, Pool: n.pool, Logger: n.log,
			Announce: n.p2p.Announce, Byzantine: n.cfg.Byzantine, Protection: n.protection, Slasher: n.slasher, Gossip: gossip})
		if err != nil {
			return err
		}
	}
	return nil
}

// channelEngine is an engine whose consensus messages travel on p2p
// channels of its own (BFT's proposals and votes); relay sends one to every
// peer but except.
type channelEngine interface {
	Channels(relay func(code byte, payload []byte, except string)) []p2p.Channel
}

// relay sends a consensus message to the peers, but except ("": all).
func (n *Node) relay(code byte, payload []byte, except string) {
	if _, err := n.p2p.Gossip(code, payload, except); err != nil {
		n.log.Error("Cannot send a consensus message", "code", code, "err", err)
	}
}

// sendTo queues a consensus message to one peer.
func (n *Node) sendTo(peer string, code byte, payload []byte) {
	if _, err := n.p2p.SendTo(peer, code, payload); err != nil {
		n.log.Error("Cannot send a consensus message", "code", code, "peer", peer, "err", err)
	}
}

// logHead logs head changes that did not come from the local miner, which
// logs its own.
func (n *Node) logHead(ev chain.HeadEvent) {
	if len(ev.Removed) == 0 && ((n.miner != nil && n.miner.Mining() && ev.Head.Header.Coinbase == n.cfg.Coinbase) ||
		((n.validator != nil || n.producer != nil) && ev.Head.Header.Coinbase == n.cfg.ValidatorKeyAddress())) {
		return
	}
	n.log.Info("New head", "height", ev.Head.Height(), "hash", ev.Head.Hash(), "txs", len(ev.Head.Txs))
}

// Start opens the RPC listener and, if configured, starts the miner.
func (n *Node) Start() error {
	n.metrics = n.newMetrics()
	var miner rpc.Miner
	if n.miner != nil {
		miner = n.miner
	}
	var links rpc.LinkFaults
	if n.links != nil {
		links = n.links
	}
	srv, err := rpc.New(rpc.Config{Chain: n.chain, Pool: n.pool, Miner: miner, Network: rpcNetwork{n.p2p}, Links: links, Version: "chaind/v" + Version,
		Keys: n.cfg.UnlockedKeys, APIs: n.cfg.RPCAPIs, Server: rpc.ServerConfig{Logger: n.log, Clock: n.clock, VHosts: n.cfg.RPCVHosts, CORSDomains: n.cfg.RPCCORSDomains, Observe: n.observeRPC()}})
	if err != nil {
		return err
	}
	n.rpc = srv
	srv.Handle("/metrics", n.metrics.Handler())
	// The explorer's page and assets (gorilla/mux paths: {asset} is one
	// path segment), beside JSON-RPC on /.
	ex := explorer.Handler()
	for _, path := range []string{strings.TrimSuffix(explorer.Path, "/"), explorer.Path, explorer.Path + "{asset}"} {
		srv.Handle(path, ex)
	}
	// A taken port fails the start, P2P like RPC: a node that moved in
	// silence would not be where its peers and users look for it.
	if err := n.p2p.Start(); err != nil {
		return fmt.Errorf("%w (another node on this port? --p2p.addr chooses another, 127.0.0.1:0 any free one)", err)
	}
	ln, err := net.Listen("tcp", n.cfg.RPCAddr)
	if err != nil {
		return fmt.Errorf("rpc: listen on %s: %w (another node on this port? --rpc.addr chooses another, 127.0.0.1:0 any free one)", n.cfg.RPCAddr, err)
	}
	n.listener = ln
	n.server = &http.Server{Handler: explorer.RedirectBrowsers(srv), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	n.served = make(chan struct{})
	go func() {
		defer close(n.served)
		if err := n.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("RPC server stopped", "err", err)
		}
	}()
	head := n.chain.Head()
	n.log.Info("Node started", "rpc", n.RPCURL(), "explorer", n.RPCURL()+explorer.Path, "p2p", n.p2p.Addr(), "node_id", n.p2p.NodeID(), "chain_id", n.chain.Genesis().ChainID,
		"genesis", n.chain.GenesisHeader().Hash(), "head", head.Height(), "head_hash", head.Hash())
	if n.miner != nil {
		n.pause = n.watchStorage()
	}
	if n.cfg.Mine {
		n.miner.Start()
	}
	if n.validator != nil {
		n.validator.Start()
	}
	if n.producer != nil {
		n.producer.Start()
	}
	return nil
}

// RPCURL is the JSON-RPC endpoint, once started.
func (n *Node) RPCURL() string {
	if n.listener == nil {
		return ""
	}
	return "http://" + n.listener.Addr().String()
}

// WSURL is the JSON-RPC endpoint for WebSocket clients (the same address).
func (n *Node) WSURL() string {
	if n.listener == nil {
		return ""
	}
	return "ws://" + n.listener.Addr().String()
}

// ValidatorKeyAddress is the validator's address, or zero.
func (c Config) ValidatorKeyAddress() common.Address {
	if c.ValidatorKey == nil {
		return common.Address{}
	}
	return crypto.PubkeyToAddress(c.ValidatorKey.PublicKey)
}

// P2PAddr is the address peers connect to, once started ("" if not listening).
func (n *Node) P2PAddr() string { return n.p2p.Addr() }

// P2PNodeID is the node's p2p id: the hex of its node key's public key.
func (n *Node) P2PNodeID() string { return n.p2p.NodeID() }

// P2PPeerCount is the number of connected peers.
func (n *Node) P2PPeerCount() int { return n.p2p.PeerCount() }

// Logger is the node's logger.
func (n *Node) Logger() *slog.Logger { return n.log }

// Chain returns the node's chain.
func (n *Node) Chain() *chain.Chain { return n.chain }

// Pool returns the node's mempool.
func (n *Node) Pool() *mempool.Pool { return n.pool }

// Miner returns the node's miner.
func (n *Node) Miner() *pow.Miner { return n.miner }

// Close stops the RPC server and the miner, then closes the database.
func (n *Node) Close() error {
	var errs []error
	if n.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, n.server.Shutdown(ctx))
		cancel()
		n.rpc.Close() // WebSocket connections, which Shutdown leaves open
		<-n.served
	}
	if n.p2p != nil && n.p2p.Started() {
		n.p2p.Close()
	}
	if n.pause != nil {
		n.pause.close()
	}
	if n.miner != nil {
		n.miner.Close()
	}
	if n.validator != nil {
		n.validator.Close()
	}
	if n.producer != nil {
		errs = append(errs, n.producer.Close())
	}
	if n.protection != nil {
		errs = append(errs, n.protection.Close())
	}
	if n.slasher != nil {
		errs = append(errs, n.slasher.Close())
	}
	errs = append(errs, n.store.Close())
	n.log.Info("Node stopped")
	return errors.Join(errs...)
}

// Verify opens a data directory (whose node must not be running), replays its
// canonical chain from genesis and checks every state root. It returns the
// head it verified.
func Verify(dataDir string) (*chain.Block, error) {
	if err := hasDatabase(dataDir); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	n, err := New(Config{DataDir: dataDir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	if err := n.chain.VerifyReplay(); err != nil {
		return nil, err
	}
	return n.chain.Head(), nil
}
