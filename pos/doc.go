// Package pos is chaind's proof-of-stake engine: time in slots and epochs, a
// proposer per slot drawn in proportion to stake from a RANDAO seed, blocks
// signed by their proposer in their own slot, Gasper's fork choice
// (LMD-GHOST from the latest justified checkpoint with proposer boost, on a
// proto-array: forkchoice.go, protoarray.go; the longest chain on request),
// and a Casper-FFG finality gadget whose votes, like slashing evidence, are
// consensus messages rather than transactions (body.go): they travel on
// their own p2p channels (messages.go), wait in bounded pools (pools.go)
// and are included in a block's consensus body, which the header commits
// to, so they need no balance, nonce or fee.
// Its consensus state (stakes, seeds, checkpoints, snapshots, tallies) lives
// in the chain's engine records, never in accounts (state.go); the staking
// address's balance is the escrowed wei (system.go).
// Each vote also names the voter's head, for LMD-GHOST, and is cast at the
// voter's committee slot. Votes are tallied per (source, target) link against a stake snapshot fixed
// at each epoch's start (ffg.go), which the epoch's proposer draw also reads
// (draw.go); an inactivity leak that burns the stake of absent voters while
// finality lags (inactivity.go); staking with delayed exits (staking.go);
// slashing for double proposals and double or surround votes (slashing.go),
// detected by a slasher that records the header of every block and every
// finality vote the node receives, on any branch, within an evidence
// window, with min/max span records for surround votes (slasher.go,
// spans.go); the validator loop, which can be
// told to misbehave for experiments (validator.go, report.go, byzantine.go).
// Everything a validator signs is signed over a domain of the message kind,
// the chain id and the genesis hash (domain.go); every signature a
// validator makes is first recorded in the node's slashing-protection
// database, which imports and exports EIP-3076 files (protection.go,
// interchange.go); calls to the staking address are checked at a
// mempool's intake as a block would (system.go's CheckSystemTx).
//
// pos implements chain.Engine (with its StateTransition) and chain.Finalizer. It
// must not import mempool, p2p, rpc or node; the validator loop takes its
// transactions and sends its messages through small interfaces.
package pos
