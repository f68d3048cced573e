package testnet

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
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

// TestLinkShaping: a frame through a link takes the configured latency each
// way, the bandwidth limit spaces frames by size/bandwidth, loss drops whole
// frames, and a cut link refuses connections.
func TestLinkShaping(t *testing.T) {
	target := echoServer(t)
	n := newNetwork(1, func(int) string { return target })
	defer n.close()
	l, err := n.addLink(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	const latency = 40 * time.Millisecond
	n.set(0, 1, LinkParams{Latency: latency})
	n.set(1, 0, LinkParams{Latency: latency})
	c, err := net.Dial("tcp", l.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip := func(size int) time.Duration {
		start := time.Now()
		if _, err := c.Write(testFrame(size)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4+size)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	if rtt := roundTrip(10); rtt < 2*latency || rtt > 2*latency+200*time.Millisecond {
		t.Fatalf("round trip %v with %v each way", rtt, latency)
	}
	// 100 kB/s: a 20 kB frame spends 200 ms on the wire in each direction.
	n.set(0, 1, LinkParams{Bandwidth: 100_000})
	n.set(1, 0, LinkParams{Bandwidth: 100_000})
	if rtt := roundTrip(20_000); rtt < 400*time.Millisecond || rtt > time.Second {
		t.Fatalf("20 kB round trip %v at 100 kB/s each way", rtt)
	}
	// Loss 1: the frame is dropped, nothing comes back.
	n.set(0, 1, LinkParams{Loss: 1})
	c.Write(testFrame(10))
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if k, _ := c.Read(make([]byte, 16)); k != 0 {
		t.Fatal("a frame crossed a link with loss 1")
	}
	// Cut: the open connection is closed and new ones refused.
	n.set(0, 1, LinkParams{Cut: true})
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection survived a cut")
	}
	c2, err := net.Dial("tcp", l.addr())
	if err == nil {
		c2.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c2.Read(make([]byte, 1))
		c2.Close()
	}
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("timeout")) {
		t.Fatalf("a new connection over a cut link was not refused: %v", err)
	}
}
