package testnet

// The provider seam: what runs the nodes. The supervisor decides what each
// node runs (its command line, its peers, its data directory) and asks a
// provider to set up, start, stop and kill it, as CometBFT's e2e runner
// asks its infra.Provider. Every provider gives each node an address of its
// own, known before the node starts, where its peers dial it (a name, on
// a swarm, whose address moves with the node's task: PeerIP); connecting and
// disconnecting nodes (partitions, heals, a link's shaping) is done by the
// nodes' own transport (--p2p.linkfaults, the one linkmodel), which the
// supervisor sets over each node's link_ RPC.

import "time"

// The backends Options.Backend names.
const (
	BackendProcesses = "processes"  // nodes are child processes of the supervisor
	BackendDocker    = "docker"     // one container per node on a network the testnet creates
	BackendSwarm     = "swarm"      // one service per node in a stack on a Docker swarm
	BackendK8s       = "kubernetes" // a StatefulSet on the cluster kubectl reaches
)

// Provider runs a testnet's nodes.
type Provider interface {
	// Setup makes what the nodes need before any of them starts (a
	// network, a Compose file). It is called once, before StartNode.
	Setup() error
	// StartNode runs `chaind node args...` as node i with its output
	// appended to logPath, and returns once the node serves its RPC.
	StartNode(i int, logPath string, args NodeArgs) (Node, error)
	// Teardown removes what Setup made; every node has stopped.
	Teardown() error
	// PeerAddr is node i's P2P address, as its peers dial it and see it
	// dial them, the same across its restarts; known once Setup returns.
	PeerAddr(i int) string
	// PeerIP is the IP address node i's peers see it dial them from, by
	// which they shape their links to it: PeerAddr's on a provider whose
	// addresses are fixed, or the latest task's on a swarm ("" before
	// the node first starts).
	PeerIP(i int) string
}

// NodeArgs is a node's command line without its listening addresses,
// which the provider chooses.
type NodeArgs []string

// Node is one running node.
type Node interface {
	RPCURL() string  // its JSON-RPC endpoint, reachable by the supervisor
	P2PAddr() string // its P2P address, reachable by its peers
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
	switch opts.Backend {
	case BackendDocker:
		return newDocker(opts), nil
	case BackendSwarm:
		return newSwarm(opts), nil
	case BackendK8s:
		return newKubernetes(opts), nil
	}
	return newProcesses(opts, binary), nil
}
