package p2p_test

import (
	"fmt"
	"math/big"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaind/chaind/p2p"
)

// TestInboundFloodLeavesOutboundRoom: connections that complete the
// handshake take at most MaxInboundPerIP slots per IP and never the outbound
// ones, so the node still dials an honest peer and syncs from it.
func TestInboundFloodLeavesOutboundRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		honest := w.node("10.0.0.1", 20, nil)
		victim := w.node("10.0.0.2", 0, func(c *p2p.Config) { c.MaxPeers = 6; c.MaxInboundPerIP = 2 })
		admitted := 0
		for i := range 5 {
			if _, err := w.hostile(victim, "10.0.0.66", i, big.NewInt(0)); err == nil {
				admitted++
			}
		}
		if admitted != 2 {
			t.Fatalf("%d connections admitted from one IP, want 2", admitted)
		}
		for i := range 20 {
			if _, err := w.hostile(victim, fmt.Sprintf("10.0.1.%d", i), 100+i, big.NewInt(0)); err == nil {
				admitted++
			}
		}
		if admitted != 4 { // 6 peers, a third kept for our dials
			t.Fatalf("%d inbound peers admitted, want 4", admitted)
		}
		if err := victim.srv.AddPeer(honest.srv.Addr()); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, time.Minute, "sync from the dialled peer", func() bool { return victim.chain.Head().Height() == 20 })
	})
}
