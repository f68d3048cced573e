// Package node wires one chaind node together: the LevelDB store, the chain
// with its consensus engine, the mempool, the miner or validator, the p2p
// server, the JSON-RPC server and the Prometheus metrics served beside it at
// /metrics.
// It owns the start-up and shutdown order and the data directory's layout.
//
// node imports the packages it wires (chain, clock, mempool, metrics, p2p,
// p2p/linkfault and linkmodel, its links' parameters, pos, pow, rpc);
// only cmd/chaind imports node.
package node
