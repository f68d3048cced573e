// Package pow is chaind's proof-of-work engine: SHA-256d of the header's seal
// hash and the nonce (one padded chunk per template, two compressions per
// nonce, SHA-NI kernels where the CPU has them), ASERT difficulty
// adjustment relative to the parent with a capped solve time, and a multi-threaded miner that switches
// templates as soon as the head or the mempool changes.
//
// pow implements chain.Engine and reads the chain through chain.ChainReader and
// the Chain methods the miner needs. It must not import mempool, p2p, rpc or
// node: the miner takes its transactions through the TxSource interface.
package pow
