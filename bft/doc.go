// Package bft is Tendermint's consensus core: the state machine of
// Buchman, Kwon and Milosevic, "The latest gossip on BFT consensus" (2018),
// Algorithm 1, as CometBFT runs it, with the crash safety a signing
// validator needs and the evidence its double signs leave.
//
// Machine (machine.go, votes.go) is pure: Handle takes an event (a new
// height, a received message, an expired timeout) and returns the messages
// to sign and broadcast, the timers to set, a decision with its commit
// (more than two thirds of the stake's precommits), and the double signs
// it saw. It does no I/O, reads no clock, starts no goroutine and draws no
// random number, so a node, a simulator and the tests' schedule explorer
// drive the same code. Validators weigh by stake; the proposer of each
// round follows CometBFT's proposer priority (validators.go). Timeouts grow
// linearly with the round (types.go). Messages are signed through the
// Signer and Verifier interfaces over a domain and the chain id
// (message.go).
//
// Replica (replica.go) wraps a machine for a validator on disk: a
// write-ahead log of the events it saw (wal.go), replayed on restart, and a
// last-signed record checked and synced before every signature
// (privval.go), as CometBFT's consensus WAL and privval, so a validator
// restarted anywhere in a height never signs two different messages for one
// height, round and step. DuplicateVoteEvidence (evidence.go) is two signed
// votes of one validator for one height, round and type with different
// values, which anyone holding the validator set can verify.
//
// The tests hold a schedule explorer (sim_test.go, explorer_test.go,
// byzantine_test.go): validators with random stakes, Byzantine ones as
// wrappers around honest machines, a network that loses, delays,
// duplicates and reorders messages before a stabilisation time, on a
// simulated clock. docs/bft.md says what they show.
//
// bft imports no other chaind package; bftchain runs it as a chain engine.
package bft
