package memnet

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"strconv"
	"sync"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/linkmodel"
)

// Link shapes one direction between two hosts, as linkmodel says: each
// write is a segment that queues behind the ones before it at Bandwidth
// (bytes per second; 0 is unlimited), then takes Latency plus a Jitter
// draw; a lost write (probability Loss) arrives
// linkmodel.RetransmitDelay(Latency) later, and the stream stays reliable
// and ordered, as TCP does. A Cut link refuses new connections, and cutting
// it closes those open between its two hosts.
type Link = linkmodel.Params

// Window is how many bytes may be in flight or unread in one direction before
// Write blocks, as a socket buffer does.
const Window = 256 << 10

// Network is a set of hosts joined by shaped links. It is safe for concurrent
// use.
type Network struct {
	clock clock.Clock

	rnd       linkmodel.Source
	mu        sync.Mutex
	links     map[[2]string]Link
	listeners map[string]*listener
	conns     map[*conn][2]string // open ends, by local and remote IP
	nextPort  int
}

// New returns an empty network on clock c; seed drives the jitter and the
// losses.
func New(c clock.Clock, seed int64) *Network {
	return &Network{clock: clock.OrReal(c), rnd: linkmodel.Locked(rand.New(rand.NewSource(seed))), links: make(map[[2]string]Link),
		listeners: make(map[string]*listener), conns: make(map[*conn][2]string), nextPort: 40000}
}

// SetLink shapes the direction from host to host (IP strings); links not set
// are instant. A connection takes its links' shapes when it is opened;
// cutting a link closes the connections open between its two hosts.
func (n *Network) SetLink(from, to string, l Link) {
	n.mu.Lock()
	n.links[[2]string{from, to}] = l
	var cut []*conn
	if l.Cut {
		for c, ips := range n.conns {
			if ips == [2]string{from, to} || ips == [2]string{to, from} {
				cut = append(cut, c)
			}
		}
	}
	n.mu.Unlock()
	for _, c := range cut {
		c.Close()
	}
}

func (n *Network) link(from, to string) Link {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[[2]string{from, to}]
}

func (n *Network) port() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nextPort++
	return n.nextPort
}

// Host is one machine on the network, with one IP address.
type Host struct {
	net *Network
	ip  string
}

// Host returns the machine with address ip (for example "10.0.0.1").
func (n *Network) Host(ip string) *Host { return &Host{net: n, ip: ip} }

// Listen accepts connections on addr, whose host must be h's IP (or empty);
// port 0 picks a free port.
func (h *Host) Listen(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("memnet: listen on %q: %w", addr, err)
	}
	if host != "" && host != h.ip {
		return nil, fmt.Errorf("memnet: listen on %q: host %s has address %s", addr, h.ip, h.ip)
	}
	if port == "0" {
		port = strconv.Itoa(h.net.port())
	}
	l := &listener{net: h.net, addr: addr2(h.ip, port), conns: make(chan net.Conn, 64), done: make(chan struct{})}
	h.net.mu.Lock()
	defer h.net.mu.Unlock()
	if _, taken := h.net.listeners[l.addr.String()]; taken {
		return nil, fmt.Errorf("memnet: listen on %s: address in use", l.addr)
	}
	h.net.listeners[l.addr.String()] = l
	return l, nil
}

// Dial connects to a listener; the connection is set up at once, and bytes
// then travel as the links between the two hosts say.
func (h *Host) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.net.mu.Lock()
	l := h.net.listeners[addr]
	h.net.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("memnet: dial %s: connection refused", addr)
	}
	local := addr2(h.ip, strconv.Itoa(h.net.port()))
	there := l.addr
	upLink, downLink := h.net.link(h.ip, there.IP.String()), h.net.link(there.IP.String(), h.ip)
	if upLink.Cut || downLink.Cut {
		return nil, fmt.Errorf("memnet: dial %s: the link is cut", addr)
	}
	up, down := newStream(h.net, upLink), newStream(h.net, downLink)
	ours := &conn{net: h.net, in: down, out: up, local: local, remote: there}
	theirs := &conn{net: h.net, in: up, out: down, local: there, remote: local}
	h.net.mu.Lock()
	h.net.conns[ours] = [2]string{h.ip, there.IP.String()}
	h.net.conns[theirs] = [2]string{there.IP.String(), h.ip}
	h.net.mu.Unlock()
	select {
	case l.conns <- theirs:
		return ours, nil
	case <-l.done:
	default: // backlog full
	}
	ours.Close()
	theirs.Close()
	return nil, fmt.Errorf("memnet: dial %s: connection refused", addr)
}

func addr2(ip, port string) *net.TCPAddr {
	p, _ := strconv.Atoi(port)
	return &net.TCPAddr{IP: net.ParseIP(ip), Port: p}
}

type listener struct {
	net   *Network
	addr  *net.TCPAddr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.net.mu.Lock()
		delete(l.net.listeners, l.addr.String())
		l.net.mu.Unlock()
	})
	return nil
}

func (l *listener) Addr() net.Addr { return l.addr }

var errClosedPipe = errors.New("memnet: broken pipe")
