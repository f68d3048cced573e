// Package linkfault shapes a node's own peer connections: a transport that
// wraps another (TCP, or memnet in tests) and holds, per peer address, the
// shaping of what this node sends to that peer — latency, jitter, loss,
// bandwidth in bytes per second and cuts, timed by linkmodel, the model
// memnet and netsim use — on a clock.Clock. Each
// node shapes its own sending direction, so the link from A to B is set on
// A; a cut refuses connections both ways and closes those open. Set by the
// node's link_ RPC namespace, the faults mean the same whether the node is
// a process, a container or a pod.
//
// A peer is named by its IP address, as its connections show it, so each
// node needs one of its own: containers and pods have theirs, and nodes on
// one host each take one of 127.0.0.0/8 and dial from it (p2p.TCPFor), as
// the testnet's process nodes do.
//
// linkfault imports only clock, linkmodel and the standard library.
package linkfault
