// Package netsim runs many chaind nodes in one process on simulated time: a
// discrete-event simulation of a proof-of-work network in which every node
// is the real chain code — header and block validation, the difficulty rule,
// fork choice, reorgs, state roots and a LevelDB store (on goleveldb's
// in-memory storage, chain.OpenSimStore, which keeps a node's indices and
// leaves the bytes of blocks and state nodes, content-addressed, to one
// chain.SharedBlobs for all nodes) — and only the network and the hashing
// are simulated.
//
// Time is a clock.Sim: each event (a block found, a block arriving at a
// node) is a timer, fired in deadline order on one goroutine, so a run is a
// pure function of its configuration and seed. Mining is a Poisson process
// per miner with rate share/difficulty against the real difficulty rule; a
// found block carries a simulated-work seal that only the simulation's
// engine accepts (a real node's engine refuses any seal on a PoW header).
// Messages between peers cost a latency drawn from a model and their
// transfer time over the slower of the sender's upload and the receiver's
// download bandwidth; a node uploads one message at a time. Blocks and
// transactions are pushed whole to every peer, or announced by hash and
// sent on request (Config.Relay). Transactions (Config.TxRate) are real
// signed transfers that go through each node's real mempool into blocks.
//
// Proof of stake runs the real thing too: every node is a validator
// (pos.Validator, its duties driven at the start of each simulated slot)
// with the real PoS engine, chain and mempool; votes and slashing evidence
// travel as consensus messages on the simulated network, checked by the
// same handler (pos.Messages) a node's p2p channels use. Slots start at the same simulated instant
// everywhere (perfect clocks). Byzantine validators use pos's behaviours.
//
// The measurements are made from testnet.Records by testnet.Compute, the
// same code that reports a run of real processes, so a simulated and a real
// run can be compared number for number.
//
// netsim imports chain, clock, fault, linkmodel, mempool, pos, pow and
// testnet; nothing imports netsim but cmd/chaind.
package netsim
