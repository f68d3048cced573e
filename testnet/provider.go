package testnet

// The provider seam: what runs the nodes. The supervisor decides what each
// node runs (its command line, its peers, its data directory) and asks a
// provider to set up, start, stop and kill it, as CometBFT's e2e runner
// asks its infra.Provider. Connecting and disconnecting nodes is the
// supervisor's link proxies' job on every provider: they listen where the
// provider's nodes can reach them (PeerHost), so a partition, a heal or a
// link's shaping means the same whatever runs the nodes.

import "time"

// The backends Options.Backend names.
const (
	BackendProcesses = "processes" // nodes are child processes of the supervisor
	BackendDocker    = "docker"    // one container per node on a network the testnet creates
)

// Provider runs a testnet's nodes.
type Provider interface {
	// Setup makes what the nodes need before any of them starts (a
	// network, a Compose file). It is called once, before StartNode.
	Setup() error
	// PeerHost is the address, reachable by every node, on which the
	// supervisor's link proxies listen.
	PeerHost() string
	// StartNode runs `chaind node args...` as node i with its output
	// appended to logPath, and returns once the node serves its RPC.
	StartNode(i int, logPath string, args NodeArgs) (Node, error)
	// Teardown removes what Setup made; every node has stopped.
	Teardown() error
}

// NodeArgs is a node's command line without its listening addresses,
// which the provider chooses.
type NodeArgs []string

// Node is one running node.
type Node interface {
	RPCURL() string  // its JSON-RPC endpoint, reachable by the supervisor
	P2PAddr() string // its P2P address, reachable by the supervisor's proxies
	// PID is its local process: the node's, or the docker CLI's
	// attached to its container.
	PID() int
	Alive() bool
	// Kill stops it at once (SIGKILL) and returns once it is gone.
	Kill()
	// Stop asks it to shut down cleanly, killing it after timeout.
	Stop(timeout time.Duration)
}

// newProvider is the provider opts.Backend names.
func newProvider(opts Options, binary string) (Provider, error) {
	if opts.Backend == BackendDocker {
		return newDocker(opts), nil
	}
	return &processes{binary: binary}, nil
}
