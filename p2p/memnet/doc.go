// Package memnet is an in-memory network for tests and simulations: hosts
// with IP addresses, listeners and connections that implement net.Listener
// and net.Conn, and links between hosts with latency, jitter, bandwidth,
// loss and cuts (linkmodel's model, shared with p2p/linkfault and
// netsim), all timed by a clock.Clock so that a run on a simulated clock is
// exact and repeatable. A connection is reliable and ordered (a lost write
// arrives late, as TCP resends it); a writer blocks once Window bytes are
// unread.
//
// memnet imports only clock, linkmodel and the standard library.
package memnet
