package testnet

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/linkmodel"
)

// echoServer answers every frame it reads with the same frame.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(c, c)
		}
	}()
	return ln.Addr().String()
}

func testFrame(n int) []byte {
	f := make([]byte, 4+n)
	binary.BigEndian.PutUint32(f, uint32(n))
	return f
}

// shapedLink is one link of a network on a simulated clock, reached
// through a real TCP connection to an echo server.
type shapedLink struct {
	t   *testing.T
	clk *clock.Sim
	n   *network
	c   net.Conn
}

func newShapedLink(t *testing.T) *shapedLink {
	target := echoServer(t)
	clk := clock.NewSim(time.Unix(0, 0))
	n := newNetwork(1, func(int) string { return target }, clk)
	t.Cleanup(n.close)
	l, err := n.addLink(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", l.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &shapedLink{t: t, clk: clk, n: n, c: c}
}

// roundTrip writes a frame of size bytes and returns the simulated time
// its echo took, moving the clock from one shaping timer to the next (each
// armed only once the frame has crossed the real sockets before it).
func (sl *shapedLink) roundTrip(size int) time.Duration {
	sl.t.Helper()
	start := sl.clk.Now()
	if _, err := sl.c.Write(testFrame(size)); err != nil {
		sl.t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		hdr := make([]byte, 4)
		sl.c.SetReadDeadline(time.Now().Add(10 * time.Second)) // wall-clock: a real socket
		_, err := io.ReadFull(sl.c, hdr)
		if err == nil && int(binary.BigEndian.Uint32(hdr)) != size {
			err = fmt.Errorf("echo of %d bytes, want %d", binary.BigEndian.Uint32(hdr), size)
		}
		if err == nil {
			_, err = io.ReadFull(sl.c, make([]byte, size))
		}
		got <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		select {
		case err := <-got:
			if err != nil {
				sl.t.Fatal(err)
			}
			return sl.clk.Now().Sub(start)
		default:
		}
		wait, stop := context.WithTimeout(ctx, 10*time.Millisecond) // wall-clock: frames cross real sockets
		if sl.clk.BlockUntil(wait, 1) == nil {
			sl.clk.Step()
		}
		stop()
		if ctx.Err() != nil {
			sl.t.Fatal("no echo within 10 s")
		}
	}
}

// TestLinkShaping: on the network's simulated clock, a frame through a link
// takes exactly the configured latency each way, plus exactly size /
// bandwidth on the wire, plus a jitter within its bound; a lost segment
// arrives linkmodel.RetransmitDelay late; a cut link closes its connections and
// refuses new ones.
func TestLinkShaping(t *testing.T) {
	sl := newShapedLink(t)
	const latency = 40 * time.Millisecond
	both := func(p LinkParams) { sl.n.set(0, 1, p); sl.n.set(1, 0, p) }
	both(LinkParams{Latency: latency})
	if rtt := sl.roundTrip(10); rtt != 2*latency {
		t.Fatalf("round trip %v with %v each way", rtt, latency)
	}
	// 100 kB/s: a 20,000-byte frame and its 4-byte header spend 200.04 ms
	// on the wire each way (to the nanosecond, as each segment rounds down).
	both(LinkParams{Latency: latency, Bandwidth: 100_000})
	if rtt, want := sl.roundTrip(20_000), 2*(latency+200_040*time.Microsecond); rtt < want-2 || rtt > want+2 {
		t.Fatalf("20 kB round trip %v at 100 kB/s, want %v", rtt, want)
	}
	both(LinkParams{Latency: latency, Jitter: 30 * time.Millisecond})
	for range 20 {
		if rtt := sl.roundTrip(10); rtt < 2*latency || rtt >= 2*(latency+30*time.Millisecond) {
			t.Fatalf("round trip %v with %v each way and a jitter of 30ms", rtt, latency)
		}
	}
	// Loss 1: every segment is lost once and resent, each way.
	both(LinkParams{Latency: latency, Loss: 1})
	if rtt, want := sl.roundTrip(10), 2*(latency+linkmodel.RetransmitDelay(latency)); rtt != want {
		t.Fatalf("round trip %v with every segment lost once, want %v", rtt, want)
	}
	// Cut: the open connection is closed and new ones refused.
	c := sl.c
	both(LinkParams{Cut: true})
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection survived a cut")
	}
	c2, err := net.Dial("tcp", sl.n.links[0].addr())
	if err == nil {
		c2.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c2.Read(make([]byte, 1))
		c2.Close()
	}
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("timeout")) {
		t.Fatalf("a new connection over a cut link was not refused: %v", err)
	}
}
