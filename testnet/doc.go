// Package testnet runs a network of chaind nodes, as separate processes or
// as Docker containers (Options.Backend; the Provider seam): it writes a
// genesis and data directories, starts the nodes, each at an address of its
// own (a loopback address per process, a container's on the testnet's
// network), shapes every link in the nodes' own transport (latency,
// jitter, loss, bandwidth, partitions; p2p/linkfault, set over each node's
// link_ RPC), kills and restarts nodes on command or on a scenario's
// timeline, records what every node saw over JSON-RPC, and turns the record
// into a report with tables and plots (gonum/plot). It serves a live
// dashboard (package testnet/dashboard) over the control API and can run
// Prometheus on the nodes' metrics. A directory belongs to one supervisor,
// which holds DIR/supervisor.lock while it runs; an earlier run's testnet
// there is continued (Options.Resume) or cleared (Options.Force) only when
// asked.
//
// Its own timing (the records, the scenario timeline, the transaction pacing, the polls) reads Options.Clock, so the parts that run
// without nodes are tested exactly on a clock.Sim; waits on OS processes and
// sockets, and progress lines for people, stay on the wall clock.
//
// testnet talks to nodes only through processes, containers (the docker
// CLI), sockets and rpc's client: it must never import node or p2p. It
// imports chain (genesis and types), clock, fault (a scenario's steps),
// figure, linkmodel (the links' parameters), pow (hash rate calibration), rpc
// (the client), sim and stats (the report's theory and intervals),
// testnet/dashboard, testnet/manifest (the docker backend's Compose file)
// and wallet.
package testnet
