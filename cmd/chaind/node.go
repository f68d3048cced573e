package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/chaind/chaind/explorer"
	"math/big"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

func runNode(args []string) error {
	fs := newFlagSet("node", "node [--dev] [--datadir DIR] [--genesis FILE] [--mine --miner.coinbase ADDR] [flags]")
	dev := fs.Bool("dev", false, "throwaway single-node chain that makes blocks at once, with a funded dev account")
	consensus := fs.String("consensus", chain.ConsensusPoW, "with --dev: pow (a mining node), pos (the dev account is the one validator: one-second slots, no hashing) or bft (the one Tendermint validator: a block when transactions wait and every second, final at once)")
	dataDir := fs.String("datadir", "", "data directory (required unless --dev, which makes a temporary one)")
	genesisPath := fs.String("genesis", "", "genesis file for a new data directory")
	rpcAddr := fs.String("rpc.addr", node.DefaultRPCAddr, "JSON-RPC listen address, HTTP and WebSocket (port 0 picks a free port)")
	rpcAPIs := fs.StringSlice("rpc.api", rpc.DefaultAPIs, "JSON-RPC namespaces served; add admin,miner for the control methods and debug for the raw readers (--dev does)")
	rpcVHosts := fs.StringSlice("rpc.vhosts", []string{"localhost"}, `host names accepted in the Host header ("*": any; IP addresses always pass)`)
	rpcCORS := fs.StringSlice("rpc.corsdomain", nil, `browser origins allowed to call the node ("*": any; default: none)`)
	mine := fs.Bool("mine", false, "mine blocks")
	threads := fs.Int("miner.threads", 0, "mining threads (0: one per CPU)")
	hashrate := fs.Float64("miner.hashrate", 0, "hold the miner to this many nonces per second (0: as fast as the CPU goes; --dev: the rate the dev chain was made for)")
	coinbase := fs.String("miner.coinbase", "", "address that receives mined rewards and fees")
	minGasPrice := fs.String("txpool.pricelimit", "", "lowest max fee per gas the mempool admits, in wei (default: the base fee)")
	p2pAddr := fs.String("p2p.addr", node.DefaultP2PAddr, `P2P listen address (port 0 picks a free port; "" does not listen)`)
	peers := fs.StringSlice("peers", nil, "static peers host:port or <node id>@host:port,... (redialled with backoff)")
	bootnodes := fs.StringSlice("bootnodes", nil, "nodes host:port or <node id>@host:port,... to learn other peers from")
	maxPeers := fs.Int("maxpeers", 25, "maximum number of peers")
	noDiscover := fs.Bool("p2p.nodiscover", false, "dial only --peers and --bootnodes, not addresses learnt from peers")
	trustLoopback := fs.Bool("p2p.trustloopback", false, "exempt peers on 127.0.0.0/8 and ::1 from the per-IP and per-network-group limits (a local testnet whose peers all come through loopback)")
	linkFaults := fs.Bool("p2p.linkfaults", false, "shape this node's links to each peer (latency, jitter, loss, bandwidth, cuts) as the link_ RPC namespace sets them (serve it with --rpc.api ...,link)")
	linkSeed := fs.Int64("p2p.linkseed", 0, "seed of the jitter and losses of --p2p.linkfaults")
	linksFile := fs.String("p2p.links", "", "with --p2p.linkfaults: a JSON file of the links' faults from the start, by peer IP, as link_list answers")
	validatorKey := fs.String("validator.key", "", "PoS: keystore file (or hex key file) of this node's validator; it proposes and votes (several, comma-separated: the node serves every key)")
	validatorPassword := fs.String("validator.password", "", "file holding the validator keystore's password (default: prompt)")
	byzantine := fs.String("validator.byzantine", "", "PoS experiments: make this validator misbehave: equivocate, double-vote, surround-vote, censor, withhold, twin (joined by '+')")
	forkChoice := fs.String("forkchoice", "", "PoS: fork-choice rule, ghost (LMD-GHOST from the latest justified checkpoint with proposer boost: the default with finality) or longest")
	checkpoint := fs.String("checkpoint", "", "trusted block HASH or NUMBER:HASH: only chains that contain it are accepted (weak subjectivity)")
	logLevel := fs.String("log.level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("node: unexpected arguments %v", fs.Args())
	}
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	cfg := node.Config{DataDir: *dataDir, RPCAddr: *rpcAddr, Mine: *mine, MinerThreads: *threads, MinerHashrate: *hashrate, Logger: log,
		P2PAddr: *p2pAddr, Peers: *peers, Bootnodes: *bootnodes, MaxPeers: *maxPeers, NoDiscover: *noDiscover, TrustLoopback: *trustLoopback, LinkFaults: *linkFaults, LinkFaultSeed: *linkSeed,
		RPCAPIs: *rpcAPIs, RPCVHosts: *rpcVHosts, RPCCORSDomains: *rpcCORS}
	if *linksFile != "" {
		data, err := os.ReadFile(*linksFile)
		if err != nil {
			return fmt.Errorf("--p2p.links: %w", err)
		}
		if err := json.Unmarshal(data, &cfg.Links); err != nil {
			return fmt.Errorf("--p2p.links %s: %w", *linksFile, err)
		}
	}
	if *coinbase != "" {
		if !common.IsHexAddress(*coinbase) {
			return fmt.Errorf("--miner.coinbase %q is not an address", *coinbase)
		}
		cfg.Coinbase = common.HexToAddress(*coinbase)
	}
	if *minGasPrice != "" {
		p, ok := new(big.Int).SetString(*minGasPrice, 0)
		if !ok {
			return fmt.Errorf("--txpool.pricelimit %q is not a number", *minGasPrice)
		}
		cfg.MinGasPrice = p
	}
	if *validatorKey != "" {
		for i, path := range strings.Split(*validatorKey, ",") {
			k, err := loadKeyFile(path, *validatorPassword)
			if err != nil {
				return fmt.Errorf("--validator.key %s: %w", path, err)
			}
			if i == 0 {
				cfg.ValidatorKey = k
			} else {
				cfg.ValidatorKeys = append(cfg.ValidatorKeys, k)
			}
		}
	}
	if *byzantine != "" {
		if cfg.Byzantine, err = pos.ParseBehaviour(*byzantine); err != nil {
			return fmt.Errorf("--validator.byzantine: %w", err)
		}
		log.Warn("This validator is Byzantine, for experiments: it will be slashed", "behaviour", cfg.Byzantine)
	}
	cfg.ForkChoice = *forkChoice
	if *checkpoint != "" {
		if cfg.Checkpoint, err = chain.ParseCheckpoint(*checkpoint); err != nil {
			return fmt.Errorf("--checkpoint: %w", err)
		}
	}
	if *genesisPath != "" {
		if cfg.Genesis, err = chain.LoadGenesis(*genesisPath); err != nil {
			return err
		}
	}
	var devAddr common.Address
	var devKey string
	if *dev {
		if cfg.DataDir == "" {
			tmp, err := os.MkdirTemp("", "chaind-dev-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			cfg.DataDir = tmp
		}
		g, key, err := node.DevSetup(cfg.DataDir, *threads, *consensus, *hashrate)
		if err != nil {
			return err
		}
		if cfg.MinerHashrate <= 0 {
			cfg.MinerHashrate = engines.Hashrate(g) // 0 but for proof of work
		}
		devAddr, devKey = crypto.PubkeyToAddress(key.PublicKey), hex.EncodeToString(crypto.FromECDSA(key))
		if cfg.UnlockedKeys, err = node.DevAccounts(key); err != nil {
			return err
		}
		cfg.Genesis = g
		producer, err := node.DevCoinbase(cfg.DataDir)
		if err != nil {
			return err
		}
		if e, _ := engines.Lookup(g.Consensus); e.Producers == engines.Validators {
			cfg.ValidatorKey = producer
			cfg.Coinbase = crypto.PubkeyToAddress(producer.PublicKey)
		} else {
			cfg.Mine = true
			if cfg.Coinbase == (common.Address{}) {
				cfg.Coinbase = crypto.PubkeyToAddress(producer.PublicKey)
			}
		}
		if !fs.Changed("rpc.api") {
			cfg.RPCAPIs = rpc.DevAPIs
		}
	}
	if cfg.DataDir == "" {
		return fmt.Errorf("node: --datadir is required (or use --dev)")
	}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		n.Close()
		return err
	}
	p2pLine := "off"
	if a := n.P2PAddr(); a != "" {
		p2pLine = a
	}
	fmt.Printf("chaind node running\n  RPC:       %s\n  WebSocket: %s\n  Explorer:  %s\n  P2P:       %s\n  Data dir:  %s\n", n.RPCURL(), n.WSURL(), n.RPCURL()+explorer.Path, p2pLine, cfg.DataDir)
	if *dev {
		// The balance at the head: a restarted dev chain has spent since genesis.
		fmt.Printf("  Chain ID:  %d\n  Account:   %s (%s ETH at height %d)\n  Key:       0x%s (also in %s/dev.key)\n  Coinbase:  %s (block rewards and fees; key in %s/coinbase.key)\n  Genesis:   %s/genesis.json\n",
			cfg.Genesis.ChainID, devAddr.Hex(), etherText(n.Chain().Account(devAddr).Balance), n.Chain().Head().Height(), devKey, cfg.DataDir,
			cfg.Coinbase.Hex(), cfg.DataDir, cfg.DataDir)
		fmt.Printf("Unlocked accounts (eth_accounts, eth_sendTransaction, eth_sign): mnemonic %q, m/44'/60'/0'/0/i, then the account above\n", node.DevMnemonic)
		for i, k := range cfg.UnlockedKeys[:node.DevMnemonicAccounts] {
			addr := crypto.PubkeyToAddress(k.PublicKey)
			fmt.Printf("  (%d) %s %s ETH  key 0x%s\n", i, addr.Hex(), etherText(n.Chain().Account(addr).Balance), hex.EncodeToString(crypto.FromECDSA(k)))
		}
	}
	if *dev && n.P2PAddr() != "" {
		fmt.Print(joinLine(cfg.DataDir, n.P2PAddr(), cfg.Genesis.Consensus))
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	sig := <-sigs
	log.Info("Shutting down", "signal", sig.String())
	signal.Stop(sigs)
	return n.Close()
}

// joinLine is the dev banner's command for a second node: on free ports,
// mining too on a PoW chain; on a PoS chain it follows (a validator joins by
// staking, docs/pos.md).
func joinLine(dataDir, p2pAddr, consensus string) string {
	extra := " [--mine --miner.coinbase ADDR]"
	if e, _ := engines.Lookup(consensus); e.Producers == engines.Validators {
		extra = ""
	}
	return fmt.Sprintf("Join this chain from another shell:\n  chaind node --genesis %s/genesis.json --datadir OTHER_DIR --peers %s --rpc.addr 127.0.0.1:0 --p2p.addr 127.0.0.1:0 --p2p.trustloopback%s\n",
		dataDir, p2pAddr, extra)
}

// etherText is wei in ether with thousands separators and no trailing zeros,
// such as 1,000,002.5.
func etherText(wei *big.Int) string {
	s := strings.TrimRight(strings.TrimRight(formatEther(wei), "0"), ".")
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0 && whole[i-1] != '-'; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if frac != "" {
		return whole + "." + frac
	}
	return whole
}
