package linkfault

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chaind/chaind/linkmodel"
	"github.com/chaind/chaind/p2p/memnet"
)

// pair connects a shaped 10.0.0.1 to 10.0.0.2 over an instant memnet and
// returns both ends, the dialler's first.
func pair(t *testing.T, tr *Transport, n *memnet.Network) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := n.Host("10.0.0.2").Listen("10.0.0.2:30303")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := tr.Dial(context.Background(), "10.0.0.2:30303")
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// arrival writes size bytes on from and returns how long they take to be
// read whole on to.
func arrival(t *testing.T, from, to net.Conn, size int) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := from.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(to, make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// TestShapingIsExact: on the bubble's clock, what a node sends to a shaped
// peer arrives after its time on the wire (bandwidth) and the latency,
// exactly; a lost segment after linkmodel.RetransmitDelay more; the reply,
// which the peer does not shape, at once; and a link set back to zero is
// instant again.
func TestShapingIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(nil, 1)
		tr := New(n.Host("10.0.0.1"), nil, 1)
		if err := tr.Set("10.0.0.2", linkmodel.Params{Latency: 50 * time.Millisecond, Bandwidth: 10_000}); err != nil {
			t.Fatal(err)
		}
		a, b := pair(t, tr, n)
		if got := arrival(t, a, b, 1000); got != 150*time.Millisecond {
			t.Errorf("1,000 bytes at 10,000 B/s over 50 ms arrived after %v, want 150ms", got)
		}
		if got := arrival(t, b, a, 1000); got != 0 {
			t.Errorf("the unshaped reply took %v", got)
		}
		if err := tr.Set("10.0.0.2", linkmodel.Params{Latency: 10 * time.Millisecond, Loss: 1}); err != nil {
			t.Fatal(err)
		}
		if got, want := arrival(t, a, b, 100), 10*time.Millisecond+linkmodel.RetransmitDelay(10*time.Millisecond); got != want {
			t.Errorf("a lost segment arrived after %v, want %v", got, want)
		}
		if err := tr.Set("10.0.0.2", linkmodel.Params{}); err != nil {
			t.Fatal(err)
		}
		if got := arrival(t, a, b, 1000); got != 0 {
			t.Errorf("a healed link took %v", got)
		}
		if len(tr.Links()) != 0 {
			t.Errorf("links after the reset: %v", tr.Links())
		}
	})
}

// TestCut: cutting a link closes the connection open to the peer and
// refuses the next dial; a listener closes what the cut peer opens to it;
// a heal lets it through again.
func TestCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(nil, 1)
		tr := New(n.Host("10.0.0.1"), nil, 1)
		a, b := pair(t, tr, n)
		if err := tr.Set("10.0.0.2", linkmodel.Params{Cut: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Read(make([]byte, 1)); err == nil {
			t.Error("the peer's end of a cut connection still reads")
		}
		if _, err := a.Write([]byte{1}); err == nil {
			t.Error("a write on a cut connection succeeded")
		}
		if _, err := tr.Dial(context.Background(), "10.0.0.2:30303"); !errors.Is(err, ErrCut) {
			t.Errorf("dial over a cut link: %v, want ErrCut", err)
		}

		ln, err := tr.Listen("10.0.0.1:30303")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
		in, err := n.Host("10.0.0.2").Dial(context.Background(), "10.0.0.1:30303")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Read(make([]byte, 1)); err == nil {
			t.Error("a connection from a cut peer was kept")
		}
		if err := tr.Set("10.0.0.2", linkmodel.Params{}); err != nil {
			t.Fatal(err)
		}
		in, err = n.Host("10.0.0.2").Dial(context.Background(), "10.0.0.1:30303")
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		c := <-accepted
		defer c.Close()
		if got := arrival(t, c, in, 10); got != 0 {
			t.Errorf("after the heal: %v", got)
		}
	})
}

// TestSetRefuses: a peer that is not an IP address and impossible
// parameters are refused.
func TestSetRefuses(t *testing.T) {
	tr := New(memnet.New(nil, 1).Host("10.0.0.1"), nil, 1)
	if err := tr.Set("node3", linkmodel.Params{}); err == nil {
		t.Error("a peer named by a host name was taken")
	}
	if err := tr.Set("10.0.0.2", linkmodel.Params{Loss: 2}); err == nil {
		t.Error("a loss of 2 was taken")
	}
}

// TestCloseDeliversWhatWasWritten: what a node writes just before it
// closes (a Disconnect's reason) arrives after the link's latency, then the
// peer sees the end of the stream, as over TCP or memnet; the closed end
// neither reads nor writes.
func TestCloseDeliversWhatWasWritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(nil, 1)
		tr := New(n.Host("10.0.0.1"), nil, 1)
		if err := tr.Set("10.0.0.2", linkmodel.Params{Latency: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		a, b := pair(t, tr, n)
		start := time.Now()
		if _, err := a.Write([]byte("bye")); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if _, err := a.Write([]byte{1}); err == nil {
			t.Error("a write after Close succeeded")
		}
		if _, err := a.Read(make([]byte, 1)); err == nil {
			t.Error("a read after Close succeeded")
		}
		got, err := io.ReadAll(b)
		if err != nil || string(got) != "bye" {
			t.Fatalf("the peer read %q, %v; want bye then the end", got, err)
		}
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Errorf("the last write and the close arrived after %v, want 50ms", d)
		}
	})
}
