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
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return conn, nil
}
