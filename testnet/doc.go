// Package testnet runs a local network of chaind nodes as separate
// processes: it writes a genesis and data directories, starts the nodes,
// connects every pair through a shaping proxy it owns (latency, jitter, loss,
// bandwidth, partitions), kills and restarts nodes on command or on a
// scenario's timeline, records what every node saw over JSON-RPC, and turns
// the record into a report with tables and plots (gonum/plot). It serves a
// live dashboard (package testnet/dashboard) over the control API and can
// run Prometheus on the nodes' metrics.
//
// testnet talks to nodes only through processes, sockets and rpc's client:
// it must never import node or p2p.
package testnet
