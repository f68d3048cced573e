// Package node wires one chaind node together: the LevelDB store, the chain
// with its consensus engine, the mempool, the miner, the JSON-RPC server and
// the Prometheus metrics served beside it at /metrics.
// It owns the start-up and shutdown order and the data directory's layout.
//
// node may import every package below it (rpc, metrics, mempool, pow, chain, wallet);
// only cmd/chaind imports node.
package node
