// Package wallet manages keys in encrypted keystore files (the Web3 Secret
// Storage format that geth, ethers and other tools read), builds and signs
// transfers, and sends them through any JSON-RPC caller. It also derives
// keys from a BIP-39 mnemonic along BIP-32 paths (the dev chain's accounts). Every key file is
// checked before a key is derived from it (CheckKeyFile): its size, its
// fields' lengths, and a key derivation cost no higher than geth's standard
// scrypt parameters, so a hostile file cannot take gigabytes or minutes.
//
// wallet imports no other chaind package: it talks to a node only through the
// Caller interface, which rpc.Client satisfies.
package wallet
