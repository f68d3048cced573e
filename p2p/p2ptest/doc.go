// Package p2ptest is a hostile peer for tests: it completes chaind's
// encrypted, authenticated handshake with a key of its own and then sends
// whatever the test wants, well formed or not (authentic frames of any
// content, or raw bytes injected under the encryption), over any
// p2p.Transport. It answers the
// node's pings only while a test has it read, so a test that never reads it
// plays a peer that does not read.
//
// p2ptest imports p2p and chain; only tests import it.
package p2ptest
