package p2p_test

import (
	"fmt"
	"math/big"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/p2p/p2ptest"
)

// TestLearntAddressesDialledWithTheirIDs: the book keeps the id an address
// was learnt with, so the node dials a learnt address to that key. A node
// at a learnt address that holds another key is given up on after its
// preamble, before the encryption handshake, and another peer's claim of a
// new id for the address does not replace the first; a learnt address
// whose node holds the key is connected to.
func TestLearntAddressesDialledWithTheirIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		n := w.node("10.0.0.1", 1, nil)
		good := w.node("10.5.0.1", 1, func(c *p2p.Config) { c.NoDiscover = true })
		// At 10.6.0.1 listens a node with key 778; the address is told
		// with the id of key 777.
		ln, err := w.net.Host("10.6.0.1").Listen("10.6.0.1:30303")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var dialled, secured atomic.Int32
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				dialled.Add(1)
				go func() {
					defer c.Close()
					c.SetDeadline(time.Now().Add(5 * time.Second))
					if _, err := p2p.SecureAccept(c, p2ptest.Key(778)); err == nil {
						secured.Add(1)
					}
				}()
			}
		}()
		h, err := w.hostile(n, "10.9.0.1", 1, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		go h.Disconnected()
		h.Send(&p2p.Addrs{Addrs: []string{
			fmt.Sprintf("%x@10.6.0.1:30303", p2p.NodeIDOf(p2ptest.Key(777))),
			good.srv.NodeID() + "@" + good.srv.Addr(),
		}})
		h2, err := w.hostile(n, "10.8.0.1", 2, big.NewInt(0))
		if err != nil {
			t.Fatal(err)
		}
		go h2.Disconnected()
		h2.Send(&p2p.Addrs{Addrs: []string{fmt.Sprintf("%x@10.6.0.1:30303", p2p.NodeIDOf(p2ptest.Key(778)))}})
		time.Sleep(30 * time.Second) // 15 discovery rounds
		synctest.Wait()
		if dialled.Load() == 0 {
			t.Fatal("the learnt address was never dialled")
		}
		if s := secured.Load(); s != 0 {
			t.Fatalf("%d of %d dials to the address learnt with another id ran the encryption handshake", s, dialled.Load())
		}
		connected := false
		for _, p := range n.srv.Peers() {
			if p.ID == good.srv.NodeID() && !p.Inbound {
				connected = true
			}
		}
		if !connected {
			t.Fatalf("the learnt address of a node with its key was not connected to: %+v", n.srv.Peers())
		}
		h.Close()
		h2.Close()
	})
}

// TestBareBootnodesDialledInOneRound: bootnodes given as bare host:port
// (no id) are all dialled in the first discovery round: an address
// without an id does not count as the id of another.
func TestBareBootnodesDialledInOneRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		defer w.close()
		a := w.node("10.1.0.1", 1, nil)
		b := w.node("10.2.0.1", 1, nil)
		n := w.node("10.0.0.1", 1, func(c *p2p.Config) { c.Bootnodes = []string{a.srv.Addr(), b.srv.Addr()} })
		time.Sleep(2*time.Second + time.Millisecond) // one round
		synctest.Wait()
		if got := n.srv.PeerCount(); got != 2 {
			t.Fatalf("%d of 2 bare bootnodes connected after one discovery round", got)
		}
	})
}
