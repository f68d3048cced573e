// Package p2ptest is a hostile peer for tests: it completes chaind's
// authenticated handshake with a key of its own and then sends whatever the
// test wants, well formed or not, over any p2p.Transport.
//
// p2ptest imports p2p and chain; only tests import it.
package p2ptest
