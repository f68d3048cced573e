// Package clock is the one source of time for chaind: everything that reads
// the time or waits (chain, engines, miner, validator loop, p2p, mempool, the
// testnet supervisor) takes a Clock instead of calling the time package, so
// that tests and simulations can run on simulated time.
//
// Real is the wall clock. Sim is a simulated clock whose time moves only when
// its owner advances it; timers fire in deadline order (ties in the order they
// were set), so a run on a Sim is deterministic.
//
// clock imports no other chaind package.
package clock
