package p2p

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Transport opens the byte streams peers talk over. The server needs nothing
// else from the network, so it runs the same on TCP and on the in-memory
// Network of the tests and the simulator.
type Transport interface {
	// Listen accepts connections on addr (host:port; port 0 picks one).
	Listen(addr string) (net.Listener, error)
	// Dial connects to addr, giving up when ctx is done.
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// TCP is the Transport over the operating system's TCP stack.
type TCP struct {
	// DialTimeout bounds one dial; optional, 5 seconds.
	DialTimeout time.Duration
	// LoopbackFrom, when set, is the source address of dials to loopback
	// addresses: a node listening on one of 127.0.0.0/8's addresses dials
	// its peers on the same host from it, so that they see it there, not at
	// 127.0.0.1 with every other local node (the testnet's nodes each have
	// one). Optional.
	LoopbackFrom net.IP
}

// TCPFor is the TCP transport of a node listening on listenAddr: one that
// listens on a loopback address dials loopback peers from it.
func TCPFor(listenAddr string) TCP {
	host, _, err := net.SplitHostPort(listenAddr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
		return TCP{LoopbackFrom: ip}
	}
	return TCP{}
}

var _ Transport = TCP{}

// Listen implements Transport.
func (TCP) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Dial implements Transport.
func (t TCP) Dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: t.DialTimeout}
	if d.Timeout <= 0 {
		d.Timeout = 5 * time.Second
	}
	if t.LoopbackFrom != nil {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() && (ip.To4() == nil) == (t.LoopbackFrom.To4() == nil) {
				d.LocalAddr = &net.TCPAddr{IP: t.LoopbackFrom}
			}
		}
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}
