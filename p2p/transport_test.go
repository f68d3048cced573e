package p2p

import (
	"context"
	"net"
	"testing"
)

// TestLoopbackDialLeavesFromTheListenAddress: a node listening on one of
// 127.0.0.0/8's addresses reaches a peer on another from its own, so that
// the peer (its admission, its link faults) sees it there and not at
// 127.0.0.1. Linux routes the whole /8 to the loopback interface.
func TestLoopbackDialLeavesFromTheListenAddress(t *testing.T) {
	peer, err := TCP{}.Listen("127.0.0.3:0")
	if err != nil {
		t.Skipf("no second loopback address here: %v", err)
	}
	defer peer.Close()
	accepted := make(chan net.Addr, 1)
	go func() {
		c, err := peer.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c.RemoteAddr()
		c.Close()
	}()
	c, err := TCPFor("127.0.0.2:30303").Dial(context.Background(), peer.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	from, ok := (<-accepted).(*net.TCPAddr)
	if !ok || !from.IP.Equal(net.IPv4(127, 0, 0, 2)) {
		t.Fatalf("the peer saw the dial from %v, want 127.0.0.2", from)
	}
	if tr := TCPFor("0.0.0.0:30303"); tr.LoopbackFrom != nil {
		t.Fatalf("a node listening on every address dials from %v", tr.LoopbackFrom)
	}
}
