// Package p2p connects chaind nodes: RLP messages in frames encrypted and
// authenticated by go-ethereum's RLPx, whose handshake proves each side's
// node key (a secp256k1 key; the peer's id is the key it proved), over a
// Transport (TCP, or the in-memory p2p/memnet); a hello inside the
// encrypted channel that refuses peers of another chain; addresses that may
// name the node id they must reach (<id>@host:port);
// block and transaction relay by announcing hashes and sending bodies on
// request; headers-first sync from a block locator with bodies fetched from
// several peers in parallel; peer-address exchange into an address book
// modelled on Bitcoin Core's addrman (p2p/addrman), whose entries keep the
// id a learnt address named so that dialling it checks the key, with
// feelers, anchors and outbound peers in distinct network groups; inbound
// eviction as Bitcoin Core's; admission before the handshake (attempt rates
// per IP, handshake places per IP and network group that half-open
// connections cannot hold, a reason for every refusal, in plaintext before
// the handshake); and per-peer budgets (queued bytes, requests,
// announcements), a write timeout and unanswered pings that cut a peer that
// does not read, slots and scores that drop and ban peers by id and IP for
// their faults, never for ours nor for a frame that fails its MAC (anyone
// on the path could inject one). Loopback is an address like any other
// unless Config.TrustLoopback says otherwise.
// Messages are dispatched through a table of one handler per code; codes
// from FirstChannelCode up belong to the Channels other components (the
// consensus engines) register, each with its decoder, handler, maximum size
// and per-peer budget, which p2p carries without knowing what they mean;
// every header a peer sends is shown to Config.SeenHeader first, and every
// block whose bodies match its header to Config.SeenBlock (a slasher
// watches every branch and the votes in every block there); every
// goroutine is owned by the Server and waited for on Close; every timer goes
// through a clock.Clock.
//
// p2p reaches the chain and the pool through its Chain and Pool interfaces;
// it imports chain (types and rule errors), mempool (its error values only),
// clock and p2p/addrman, and must not import rpc, node or the engines (blocks are validated by chain, which
// calls the engine).
package p2p
