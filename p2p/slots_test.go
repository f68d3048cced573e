package p2p_test

import (
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
)

// TestInboundFloodLeavesOutboundRoom: connections that complete the
// handshake take at most MaxInboundPerIP slots per IP and never the outbound
// ones (a newcomer evicts another inbound peer), so the node still dials an
// honest peer and syncs from it.
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
			w.hostile(victim, fmt.Sprintf("10.0.1.%d", i), 100+i, big.NewInt(0)) // may evict another
		}
		synctest.Wait()
		if n := victim.srv.PeerCount(); n != 4 { // 6 peers, a third kept for our dials
			t.Fatalf("%d inbound peers, want 4", n)
		}
		if err := victim.srv.AddPeer(honest.srv.Addr()); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, time.Minute, "sync from the dialled peer", func() bool { return victim.chain.Head().Height() == 20 })
	})
}

// TestFreshIDsPerIPCapped: one IP may bring 16 node ids an hour; the 17th is
// refused, so new keys do not escape bans. Another IP is not affected.
func TestFreshIDsPerIPCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		for i := range 16 {
			h, err := w.hostile(n, "10.0.0.66", i, big.NewInt(0))
			if err != nil {
				t.Fatalf("id %d: %v", i, err)
			}
			h.Close()
			synctest.Wait()
		}
		if _, err := w.hostile(n, "10.0.0.66", 16, big.NewInt(0)); !strings.Contains(refusal(t, err), "too many node ids") {
			t.Fatal("a 17th id from one IP was let in")
		}
		if _, err := w.hostile(n, "10.0.0.67", 16, big.NewInt(0)); err != nil {
			t.Fatalf("the same id from another IP: %v", err)
		}
		time.Sleep(time.Hour + time.Second)
		if _, err := w.hostile(n, "10.0.0.66", 17, big.NewInt(0)); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
	})
}

// TestLearntAddressesDialledAtABoundedRate: 64 addresses pushed by a peer
// are dialled at most two per discovery round.
func TestLearntAddressesDialledAtABoundedRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		var mu sync.Mutex
		accepted := 0
		addrs := make([]string, 64)
		for i := range addrs {
			ln, err := w.net.Host(fmt.Sprintf("10.0.2.%d", i)).Listen(fmt.Sprintf("10.0.2.%d:30303", i))
			if err != nil {
				t.Fatal(err)
			}
			addrs[i] = fmt.Sprintf("%x@%s", p2p.NodeIDOf(p2ptest.Key(100+i)), ln.Addr())
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					accepted++
					mu.Unlock()
					c.Close()
				}
			}()
			defer ln.Close()
		}
		h, err := w.hostile(n, "10.0.0.66", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		h.Send(&p2p.Addrs{Addrs: addrs})
		const rounds = 10
		time.Sleep(rounds*2*time.Second + time.Second)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if accepted == 0 || accepted > 2*rounds {
			t.Fatalf("%d dials in %d rounds, want 1..%d", accepted, rounds, 2*rounds)
		}
		t.Logf("%d of 64 learnt addresses dialled in %d rounds", accepted, rounds)
	})
}

// TestSlowHandshakesBounded: connections that never send their hello hold
// at most MaxInboundPerIP places per IP, and only for the handshake
// timeout; a peer from another IP completes its handshake meanwhile.
func TestSlowHandshakesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, func(c *p2p.Config) { c.MaxInboundPerIP = 4 })
		greeted := 0
		for range 20 {
			conn, err := w.net.Host("10.0.0.66").Dial(t.Context(), n.srv.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(time.Second))
			// The node's first frame: its preamble (code 0, a hello's) if
			// admitted to the handshake, a refusal (code 1, a Disconnect's)
			// if not.
			first := make([]byte, 5)
			if _, err := io.ReadFull(conn, first); err == nil && first[4] == 0 {
				greeted++
			}
		}
		if greeted != 4 {
			t.Fatalf("%d silent connections from one IP got to the handshake, want 4", greeted)
		}
		if _, err := w.hostile(n, "10.0.0.67", 1, big.NewInt(0)); err != nil {
			t.Fatalf("a peer from another IP: %v", err)
		}
		time.Sleep(6 * time.Second) // the handshake timeout frees the places
		if _, err := w.hostile(n, "10.0.0.66", 2, big.NewInt(0)); err != nil {
			t.Fatalf("after the handshake timeout: %v", err)
		}
	})
}
