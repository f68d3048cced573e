// Package chain holds chaind's core data and rules: headers with a fixed binary
// encoding, blocks of Ethereum-signed value transfers, the genesis file, account
// state with a state root that commits to every account, block validation, fork
// choice by total weight, reorgs through per-block undo records, and the LevelDB
// store in which every import or reorg is one atomic batch.
//
// Consensus engines (pow/, pos/) plug in through the Engine interface defined here
// and read the chain only through ChainReader. chain must not import any other
// chaind package: it sits at the bottom of the dependency graph, and it tells the
// rest of the node about new heads through Subscribe callbacks.
package chain
