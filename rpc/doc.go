// Package rpc is chaind's JSON-RPC 2.0 API over HTTP and WebSocket on one
// address: a server (gorilla/mux, gorilla/websocket) with batches, standard
// error codes with kinds in error.data, request and answer limits, Host and
// Origin checks, subscriptions (with notification budgets, so that
// subscribers cannot starve transaction intake) and polled filters; the
// handlers, one file per namespace or job (eth_, net_/web3_, txpool_,
// chaind_, admin_, link_, debug_, the dev chain's unlocked accounts); and a small
// typed client that the wallet, the tests and the testnet supervisor use.
//
// rpc may import chain, mempool, clock and linkmodel. Miner control comes in through
// the Miner interface, peers through Network, and a consensus engine's own
// methods through NamespaceProvider, which the engine implements: rpc must
// not import node, p2p or an engine package (pow, pos).
package rpc
