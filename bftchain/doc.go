// Package bftchain runs the Tendermint state machine of package bft as a
// chain.Engine: the "bft" genesis section (validators with their stakes,
// timeouts), headers whose seal is the block's commit (more than two thirds
// of the stake's precommits for it), a weight that leaves the committed
// chain the only branch, and finality at the head (a committed block is
// final once it exists).
//
// A block's consensus value is its SealHash, the header without its seal,
// so the commit that decides it can travel in the seal: every header proves
// its own commit, and VerifyHeader refuses one without it. Messages are
// signed with the validators' Ethereum keys (secp256k1 over keccak256);
// a validator is named in the bft set by its address, as Clique's signers
// are.
//
// bftchain imports chain, clock and bft; bft stays pure.
package bftchain
