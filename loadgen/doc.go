// Package loadgen loads a node's JSON-RPC intake with signed transfers and
// measures it: transfers accepted per second (and mined, unless only
// admission is measured), the admission latency of each request and per
// transfer, unbatched and batched, and the node process's CPU time per
// transfer. It can also start a
// throwaway node process whose genesis funds the senders (proof of stake
// by default, so the node spends no core on hashing; or a mining node).
//
// loadgen talks to nodes only through processes and rpc's client; it
// imports chain (genesis files), pow (difficulty calibration), rpc and
// wallet, never node.
package loadgen
