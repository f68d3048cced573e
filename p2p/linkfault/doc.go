// Package linkfault shapes a node's own peer connections: a transport that
// wraps another (TCP, or memnet in tests) and holds, per peer address, the
// shaping of what this node sends to that peer — latency, jitter, loss,
// bandwidth in bytes per second and cuts, timed by linkmodel, the model
// memnet, the testnet's proxies and netsim use — on a clock.Clock. Each
// node shapes its own sending direction, so the link from A to B is set on
// A; a cut refuses connections both ways and closes those open. Set by the
// node's link_ RPC namespace, the faults mean the same whether the node is
// a process, a container or a pod.
//
// A peer is named by its IP address, as its connections show it, so nodes
// on one host (all 127.0.0.1) cannot be told apart; containers and pods,
// each with its own address, can.
//
// linkfault imports only clock, linkmodel and the standard library.
package linkfault
