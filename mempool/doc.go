// Package mempool holds pending transactions: it admits only transactions that
// are valid against the head state (signature, chain id, nonce, balance, fee),
// keeps nonce gaps as queued, orders executable transactions by effective tip,
// replaces a transaction only for a 10% fee bump, evicts the cheapest when
// full, and follows the chain's head events to drop what a block made invalid
// and re-admit what a reorg abandoned.
//
// mempool imports chain only; it must not import pow, pos, p2p, rpc or node.
package mempool
