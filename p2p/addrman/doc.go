// Package addrman is the address book of p2p, modelled on Bitcoin Core's
// addrman (src/addrman.cpp) and the countermeasures of Heilman et al.,
// "Eclipse Attacks on Bitcoin's Peer-to-Peer Network" (USENIX Security
// 2015): a "new" table of addresses heard of and a "tried" table of
// addresses we have connected to, each a fixed grid of buckets. Where an
// address lands is a keyed hash, under a secret of this node, of the
// address's network group and (in the new table) of the network group of
// the peer that told us, so that one source group reaches a bounded part of
// the new table and one address group a bounded part of the tried table,
// and an attacker cannot aim at a slot. Full slots keep their entry unless
// it is terrible (stale, or failing); an address moves to tried only when we
// connected to it, and a tried entry it would displace is kept while it
// still answers (test-before-evict: the collision is resolved by a feeler
// connection). Anchors, the outbound peers of the last run, are kept in a
// file and dialled first after a restart.
//
// An entry is keyed by its canonical IP:port and keeps the node id the
// address named (id@IP:port; the id is text to the book, p2p checks it):
// the book hands the address out with its id, so that a dial to it checks
// the key; the id first heard of stays until Good, a connection, proves
// another.
//
// Network groups are what a single operator is likely to own: an IPv4 /16,
// an IPv6 /32; loopback and unroutable addresses have groups of their own.
//
// addrman imports only the standard library; it does no network I/O and
// takes the time from its caller, so that it runs the same on a simulated
// clock.
package addrman
