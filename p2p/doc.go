// Package p2p connects chaind nodes over TCP: framed RLP messages with a size
// limit checked before allocation, a handshake that refuses peers of another
// chain, block and transaction relay by announcing hashes and sending bodies
// on request, headers-first sync from a block locator with bodies fetched from
// several peers in parallel, peer-address exchange, and scoring that drops and
// bans peers that send invalid data.
//
// p2p may import chain and mempool; it must not import rpc, node or the
// engines (blocks are validated by chain, which calls the engine).
package p2p
