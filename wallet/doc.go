// Package wallet manages keys in encrypted keystore files (the Web3 Secret
// Storage format that geth, ethers and other tools read), builds and signs
// transfers, and sends them through any JSON-RPC caller.
//
// wallet imports no other chaind package: it talks to a node only through the
// Caller interface, which rpc.Client satisfies.
package wallet
