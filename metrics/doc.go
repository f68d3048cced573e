// Package metrics exports a node's state to Prometheus: head height,
// reorgs and their depths, peers, mempool size, hashrate, finalized height
// and JSON-RPC latency, served in the text exposition format at /metrics.
//
// It reads the node through the functions of Config and is told of reorgs
// and RPC calls; it imports no other chaind package, so node/ wires it.
package metrics
