package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/engines"
)

// Ports and paths inside a node's container.
const (
	P2PPort     = 30303
	RPCPort     = 8545 // JSON-RPC, and Prometheus metrics at /metrics
	genesisDir  = "/etc/chaind"
	genesisFile = "genesis.json"
	dataDir     = "/data"
	// rpcAPIs are the namespaces the testnet's supervisor serves its
	// nodes, so that its control (link faults too) works against these
	// nodes.
	rpcAPIs = "eth,net,web3,txpool,chaind,admin,miner,link"
)

// The files Write makes.
const (
	KubernetesFile = "kubernetes.yaml"
	ComposeFile    = "docker-compose.yml"
)

// Config is a testnet to run on an orchestrator.
type Config struct {
	Nodes   int    // required: how many nodes, at least 1
	Image   string // required: the chaind image, e.g. chaind:latest
	Genesis []byte // required: the genesis file of a proof-of-work chain
	// Name names the StatefulSet, the Service and the nodes' host names;
	// optional, "chaind". It must be a DNS label.
	Name string
}

// testnet is a checked Config and what it implies.
type testnet struct {
	Config
	hashrate string // each node's miner rate, nonces per second
}

// check refuses a Config the orchestrators cannot run.
func (c Config) check() (*testnet, error) {
	if c.Name == "" {
		c.Name = "chaind"
	}
	switch {
	case c.Nodes < 1:
		return nil, fmt.Errorf("manifest: %d nodes, want at least 1", c.Nodes)
	case c.Image == "":
		return nil, errors.New("manifest: no image")
	case !dnsLabel(c.Name):
		return nil, fmt.Errorf("manifest: name %q is not a DNS label (a-z, 0-9, -)", c.Name)
	}
	g, err := chain.ParseGenesis(c.Genesis)
	if err != nil {
		return nil, fmt.Errorf("manifest: genesis: %w", err)
	}
	if g.Consensus != chain.ConsensusPoW {
		return nil, fmt.Errorf("manifest: consensus %q: only pow (each PoS node needs its own validator key)", g.Consensus)
	}
	// The genesis difficulty is the declared hash rate times the block time
	// (as the testnet's supervisor sets it); the nodes share that rate.
	rate := engines.Hashrate(g) / float64(c.Nodes)
	return &testnet{Config: c, hashrate: strconv.FormatFloat(max(rate, 1), 'f', 0, 64)}, nil
}

func dnsLabel(s string) bool {
	if len(s) > 50 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// args is the command line of a node that reaches its peers at peers and
// credits what it mines to coinbase.
func (t *testnet) args(peers []string, coinbase string) []string {
	args := []string{"node", "--datadir", dataDir, "--genesis", genesisDir + "/" + genesisFile,
		"--p2p.addr", fmt.Sprintf("0.0.0.0:%d", P2PPort), "--rpc.addr", fmt.Sprintf("0.0.0.0:%d", RPCPort),
		"--rpc.api", rpcAPIs, "--p2p.linkfaults", "--mine", "--miner.threads", "1", "--miner.hashrate", t.hashrate, "--miner.coinbase", coinbase}
	if len(peers) > 0 {
		args = append(args, "--peers", strings.Join(peers, ","))
	}
	return args
}

// Coinbase is the address node i mines to, as the testnet's supervisor
// gives it.
func Coinbase(i int) string {
	return fmt.Sprintf("0x%040x", 0xc0000+i)
}

// Write writes the genesis, the Kubernetes manifests and the Compose file
// of c into dir.
func Write(dir string, c Config) error {
	k, err := Kubernetes(c)
	if err != nil {
		return err
	}
	compose, err := Compose(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	for name, data := range map[string][]byte{genesisFile: c.Genesis, KubernetesFile: k, ComposeFile: compose} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
	}
	return nil
}
