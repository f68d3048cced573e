// Package chain holds chaind's core data and rules: headers that map one to
// one onto Ethereum headers (their RLP is the encoding, its keccak256 the
// block hash), blocks of Ethereum-signed value transfers, the genesis file, the
// state (accounts in go-ethereum's Merkle-Patricia trie on disk, with
// Ethereum's state root for the same accounts, and the engine's own records
// as the storage of a system account), block validation, fork
// choice by total weight or by the engine's own ForkChoice (forkchoice.go),
// reorgs through per-block undo records, and the LevelDB
// store in which every import or reorg is one atomic batch. The store records
// each acknowledged head outside LevelDB's log and refuses, at start, a
// database that lost it or whose newest blocks are damaged; a full disk stops
// its writes, not its reads, until it can write again.
//
// Consensus engines (pow/, pos/) plug in through the Engine interface defined here
// (header rules, sealing, fork-choice weight or a ForkChooser, and their part of the state
// transition: genesis, begin, system calls, finalize; optionally a consensus body,
// BodyTransition, whose bytes the header commits to and the chain never reads; optionally
// a proof beside the block, outside its hash, ProofVerifier) and read
// the chain only through ChainReader; chain names no consensus concept. chain must not import any other
// chaind package but clock: it sits at the bottom of the dependency graph, and it tells the
// rest of the node about new heads through Subscribe callbacks.
package chain
