package memnet

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/linkmodel"
)

func pair(t *testing.T, n *Network) (client, server interface {
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	Close() error
	SetReadDeadline(time.Time) error
}) {
	t.Helper()
	ln, err := n.Host("10.0.0.2").Listen("10.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := n.Host("10.0.0.1").Dial(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RemoteAddr().String(); got[:9] != "10.0.0.1:" {
		t.Fatalf("remote address %s", got)
	}
	return c, s
}

// TestLatencyAndBandwidthAreExact: on a simulated clock, 1000 bytes over a
// link of 50 ms and 10,000 bytes/s arrive exactly 150 ms after the write,
// and not a nanosecond earlier.
func TestLatencyAndBandwidthAreExact(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	sim := clock.NewSim(start)
	n := New(sim, 1)
	n.SetLink("10.0.0.1", "10.0.0.2", Link{Latency: 50 * time.Millisecond, Bandwidth: 10_000})
	c, s := pair(t, n)
	if _, err := c.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	sim.Advance(150*time.Millisecond - 1)
	s.SetReadDeadline(sim.Now()) // reads now answer at once
	buf := make([]byte, 2000)
	if k, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes (%v) before latency + size/bandwidth", k, err)
	}
	sim.Advance(1)
	s.SetReadDeadline(sim.Now().Add(time.Nanosecond))
	if k, err := s.Read(buf); k != 1000 || err != nil {
		t.Fatalf("read %d bytes, %v; want all 1000 at 150 ms", k, err)
	}
}

// TestLossDelaysButKeepsOrder: with every write lost once, bytes arrive late
// by the retransmission delay, in order, and none are missing.
func TestLossDelaysButKeepsOrder(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	sim := clock.NewSim(start)
	n := New(sim, 7)
	n.SetLink("10.0.0.1", "10.0.0.2", Link{Latency: 10 * time.Millisecond, Loss: 1})
	c, s := pair(t, n)
	for i := range byte(100) {
		c.Write([]byte{i})
	}
	c.Close()
	sim.Advance(10*time.Millisecond + linkmodel.RetransmitDelay(10*time.Millisecond))
	data, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range data {
		if int(b) != i {
			t.Fatalf("byte %d is %d", i, b)
		}
	}
	if len(data) != 100 {
		t.Fatalf("%d bytes", len(data))
	}
}

// TestWriterBlocksOnUnreadWindow: a reader that does not read stops the
// writer after Window bytes; the write deadline then ends the write.
func TestWriterBlocksOnUnreadWindow(t *testing.T) {
	sim := clock.NewSim(time.Unix(1_700_000_000, 0))
	n := New(sim, 1)
	c, _ := pair(t, n)
	cc := c.(interface{ SetWriteDeadline(time.Time) error })
	cc.SetWriteDeadline(sim.Now().Add(time.Second))
	done := make(chan error, 1)
	var wrote int
	go func() {
		var err error
		wrote, err = c.Write(make([]byte, 2*Window))
		done <- err
	}()
	if err := sim.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	sim.Advance(time.Second)
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write error %v, want a deadline", err)
	}
	if wrote != Window {
		t.Fatalf("wrote %d bytes, want the window %d", wrote, Window)
	}
}

// TestJitterStaysWithinItsBound: on a simulated clock, each write over a
// link with a jitter arrives no earlier than the latency and before latency
// plus jitter, as p2p/linkfault shapes it.
func TestJitterStaysWithinItsBound(t *testing.T) {
	sim := clock.NewSim(time.Unix(1_700_000_000, 0))
	n := New(sim, 3)
	n.SetLink("10.0.0.1", "10.0.0.2", Link{Latency: 20 * time.Millisecond, Jitter: 10 * time.Millisecond})
	c, s := pair(t, n)
	buf := make([]byte, 1)
	for i := range 20 {
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		sim.Advance(20*time.Millisecond - 1)
		s.SetReadDeadline(sim.Now())
		if k, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write %d: read %d bytes (%v) before the latency", i, k, err)
		}
		sim.Advance(10 * time.Millisecond)
		s.SetReadDeadline(sim.Now().Add(time.Nanosecond))
		if k, err := s.Read(buf); k != 1 || err != nil || buf[0] != byte(i) {
			t.Fatalf("write %d: read %d bytes (%v) by latency + jitter", i, k, err)
		}
	}
}

// TestCutClosesAndRefuses: cutting a link closes the connections open
// between its hosts and refuses new ones until it is set again.
func TestCutClosesAndRefuses(t *testing.T) {
	sim := clock.NewSim(time.Unix(1_700_000_000, 0))
	n := New(sim, 1)
	c, s := pair(t, n)
	n.SetLink("10.0.0.2", "10.0.0.1", Link{Cut: true})
	if _, err := c.Write([]byte{1}); err == nil {
		t.Fatal("write on a cut connection succeeded")
	}
	if _, err := s.Read(make([]byte, 1)); err == nil {
		t.Fatal("read on a cut connection succeeded")
	}
	ln, err := n.Host("10.0.0.2").Listen("10.0.0.2:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := n.Host("10.0.0.1").Dial(context.Background(), "10.0.0.2:7000"); err == nil {
		t.Fatal("dial over a cut link succeeded")
	}
	n.SetLink("10.0.0.2", "10.0.0.1", Link{})
	if _, err := n.Host("10.0.0.1").Dial(context.Background(), "10.0.0.2:7000"); err != nil {
		t.Fatalf("dial after the link was set again: %v", err)
	}
}
