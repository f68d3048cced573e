// Package bftchain runs the Tendermint state machine of package bft as a
// chain.Engine: the "bft" genesis section (validators with their stakes,
// timeouts), blocks whose proof is their commit (more than two thirds of
// the stake's precommits for them), a weight that leaves the committed
// chain the only branch, and finality at the head (a committed block is
// final once it exists).
//
// A block's consensus value is its SealHash; its seal is empty, so the
// block of a decided value is the same on every node. The commit that
// decides it is its proof (chain.Block.Proof, CometBFT's seen commit),
// outside its hash: each node keeps the quorum of precommits it has, sends
// it with the block, and imports no block without one (VerifyProof). The
// next block carries the parent's commit in its consensus body
// (lastcommit.go, CometBFT's LastCommit), so the chain holds each height's
// commit but the head's. Messages are
// signed with the validators' Ethereum keys (secp256k1 over keccak256);
// a validator is named in the bft set by its address, as Clique's signers
// are. Proposals and votes travel on p2p channels of their own (wire.go).
//
// Producer (producer.go) is a validator on a node: a bft.Replica (write-ahead
// log, last-signed record) driven by the node's clock, which starts a height
// when transactions wait, a block time after the head or on a peer's
// message of it, takes a proposal only with its block checked against the
// head (chain.CheckBlock), and inserts each decided block with its commit;
// it sends its height's messages again when nothing happens (resend.go).
//
// bftchain imports bft, chain, clock and p2p; bft stays pure.
package bftchain
