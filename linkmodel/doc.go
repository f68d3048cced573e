// Package linkmodel is the one model of a network link that chaind's
// in-memory network (p2p/memnet), the nodes' link faults (p2p/linkfault)
// and the simulator (netsim) share: a link's parameters (latency, jitter, loss,
// bandwidth in bytes per second, cut) and the arithmetic of when a segment
// of n bytes handed to a link at time t arrives. A segment waits for the
// segments before it to leave the wire, takes n/bandwidth to leave it, then
// the latency, a jitter drawn uniformly below Jitter and, if it is lost, a
// retransmission delay (the stream stays reliable and ordered, as TCP keeps
// it). Randomness comes from an injected source and time from the caller, so
// a run on a simulated clock with a seeded source is exact and repeatable.
//
// linkmodel imports only the standard library.
package linkmodel
