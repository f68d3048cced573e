// Package engines is the table of chaind's consensus engines and the one
// place a genesis is built: for each engine (proof of work, proof of stake, BFT)
// its name and how a genesis Spec becomes its genesis section, so that the
// node, the testnet, the load generator and the simulator make their
// genesis files the same way (Genesis) and refuse an unknown engine with
// the same list of names.
//
// An engine's genesis section is its own type, defined, defaulted and
// validated by the engine's package and registered there with chain (see
// chain.EngineConfig); this package only maps a Spec onto it. Adding an
// engine is one entry in the table (table.go) and its package.
//
// engines imports chain and the engines' packages (pow, pos, bftchain); it must not
// import node, p2p, rpc, mempool or testnet.
package engines
