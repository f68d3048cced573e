// Package clock is the one source of time for chaind: what reads the time or
// waits where simulated time makes tests and simulations exact (chain, the
// store's retries, the PoS engine and validator loop, the miner's hash-rate
// throttle, p2p and p2p/memnet, RPC filters, the testnet supervisor and its
// dashboard, netsim) takes a Clock instead of calling the time package.
//
// Real is the wall clock. Sim is a simulated clock whose time moves only when
// its owner advances it; timers fire in deadline order (ties in the order they
// were set), so a run on a Sim is deterministic.
//
// clock imports no other chaind package.
package clock
