// Package rpc is chaind's JSON-RPC 2.0 API over HTTP: a server (gorilla/mux)
// with batches, standard error codes and a request size limit; the handlers,
// one file per namespace (eth_, net_/web3_, txpool_, chaind_); and a small
// typed client that the wallet, the tests and the testnet supervisor use.
//
// rpc may import chain and mempool; miner control comes in through the Miner
// interface. It must not import node or p2p.
package rpc
