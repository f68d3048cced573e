// Package explorer serves a block explorer page on the node's JSON-RPC
// address: the latest blocks with their producer and finality, side
// branches and reorgs, a block, a transaction with its receipt, an account
// with its balance and recent transfers, the node's peers and, on proof of
// stake, the validators and the finalized checkpoint.
//
// The page, its script and its style are embedded; nothing is fetched from
// elsewhere. The script reads everything through the node's own JSON-RPC
// API (same origin), so the package has no view of the chain and imports
// no chaind package: the node mounts Handler beside the RPC server.
package explorer
