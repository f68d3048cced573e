package linkfault

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand"
	"net"
	"sync"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/linkmodel"
)

// Inner is the transport linkfault wraps; p2p.Transport has this shape.
type Inner interface {
	Listen(addr string) (net.Listener, error)
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// ErrCut is the error of a connection over a cut link.
var ErrCut = errors.New("linkfault: the link to this peer is cut")

// Transport is Inner with per-peer faults on what this node sends. It is
// safe for concurrent use.
type Transport struct {
	inner Inner
	clock clock.Clock
	rnd   linkmodel.Source

	mu    sync.Mutex
	links map[string]linkmodel.Params // by peer IP
	conns map[*conn]struct{}
}

// New wraps inner; clk times the shaping (optional, clock.Real) and seed
// drives the jitter and the losses.
func New(inner Inner, clk clock.Clock, seed int64) *Transport {
	return &Transport{inner: inner, clock: clock.OrReal(clk), rnd: linkmodel.Locked(rand.New(rand.NewSource(seed))),
		links: make(map[string]linkmodel.Params), conns: make(map[*conn]struct{})}
}

// Set shapes what this node sends to peer (an IP address) from now on, on
// the connections open and those to come; a zero Params is an unshaped
// link. Cutting it closes the connections with peer.
func (t *Transport) Set(peer string, p linkmodel.Params) error {
	ip := net.ParseIP(peer)
	if ip == nil {
		return fmt.Errorf("linkfault: peer %q is not an IP address", peer)
	}
	if err := p.Check(); err != nil {
		return fmt.Errorf("linkfault: %w", err)
	}
	key := ip.String()
	t.mu.Lock()
	if p == (linkmodel.Params{}) {
		delete(t.links, key)
	} else {
		t.links[key] = p
	}
	var cut []*conn
	if p.Cut {
		for c := range t.conns {
			if c.peer == key {
				cut = append(cut, c)
			}
		}
	}
	t.mu.Unlock()
	for _, c := range cut {
		c.abort()
	}
	return nil
}

// Links is every peer's shaping that is not the zero Params.
func (t *Transport) Links() map[string]linkmodel.Params {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.links)
}

func (t *Transport) params(peer string) linkmodel.Params {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.links[peer]
}

// Listen accepts connections on addr; those from a cut peer are closed
// at once.
func (t *Transport) Listen(addr string) (net.Listener, error) {
	ln, err := t.inner.Listen(addr)
	if err != nil {
		return nil, err
	}
	return &listener{Listener: ln, t: t}, nil
}

// Dial connects to addr unless the link to its host is cut.
func (t *Transport) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && t.params(ip.String()).Cut {
			return nil, ErrCut
		}
	}
	c, err := t.inner.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return t.wrap(c)
}

// wrap shapes c by its remote IP, or refuses it when that link is cut.
func (t *Transport) wrap(c net.Conn) (net.Conn, error) {
	peer := hostOf(c.RemoteAddr())
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.links[peer].Cut {
		c.Close()
		return nil, ErrCut
	}
	sc := newConn(c, t, peer)
	t.conns[sc] = struct{}{}
	return sc, nil
}

func (t *Transport) forget(c *conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

func hostOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String()
	}
	return host
}

type listener struct {
	net.Listener
	t *Transport
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if sc, err := l.t.wrap(c); err == nil {
			return sc, nil
		}
	}
}
