// Package dockerd gives a test a Docker daemon: the one the environment's
// docker CLI already reaches, or, as root with Debian's docker.io
// installed, a dockerd of the test's own (its own socket, data and exec
// roots; no default bridge and no IP forwarding, so that containers talk
// only on the networks the test creates; its iptables rules let them talk
// there, past a FORWARD policy of DROP), stopped when the test ends. Without either, the test is skipped and says why.
//
// dockerd imports no chaind package; only tests use it.
package dockerd
