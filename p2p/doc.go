// Package p2p connects chaind nodes: framed RLP messages with a size limit
// checked before allocation, over a Transport (TCP, or the in-memory
// p2p/memnet); a handshake that refuses peers of another chain and proves
// each side's node key (a secp256k1 key) over a fresh nonce from the other;
// block and transaction relay by announcing hashes and sending bodies on
// request; headers-first sync from a block locator with bodies fetched from
// several peers in parallel; peer-address exchange into an address book
// modelled on Bitcoin Core's addrman (p2p/addrman), with feelers, anchors
// and outbound peers in distinct network groups; inbound eviction as Bitcoin
// Core's; admission before the handshake (attempt rates per IP, handshake
// places per IP and network group that half-open connections cannot hold,
// a reason for every refusal); and per-peer budgets (queued bytes,
// requests, announcements), a write timeout and unanswered pings that cut a
// peer that does not read, slots and scores that drop and ban peers by id
// and IP for their faults, never for ours. Loopback is an address like any
// other unless Config.TrustLoopback says otherwise.
// Messages are dispatched through a table of one handler per code; every
// goroutine is owned by the Server and waited for on Close; every timer goes
// through a clock.Clock.
//
// p2p reaches the chain and the pool through its Chain and Pool interfaces;
// it imports chain (types and rule errors), mempool (its error values only),
// clock and p2p/addrman, and must not import rpc, node or the engines (blocks are validated by chain, which
// calls the engine).
package p2p
