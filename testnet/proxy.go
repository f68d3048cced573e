package testnet

import (
	"fmt"
	"io"
	"math/rand"
	"net"
	"sync"
	"time"

	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/linkmodel"
)

// LinkParams shape one direction of a link (bandwidth in bytes per second),
// as linkmodel models it for p2p/memnet and netsim too.
type LinkParams = linkmodel.Params

// maxSegment bounds what the proxy relays as one piece: what one read of the
// incoming socket returned. The stream is encrypted, so the proxy cannot
// see chaind's frames; it shapes the bytes as they come, as a router does.
const maxSegment = 64 << 10

// link is the proxy for one directed pair: node From dials it to reach To.
// Traffic from From to To follows params(From, To), the replies follow
// params(To, From), so each direction of every pair is shaped by its own
// settings whichever node opened the connection.
type link struct {
	from, to int
	ln       net.Listener
	tn       *network

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// network holds every link's parameters and proxies.
type network struct {
	clock  clock.Clock // times the shaping
	mu     sync.Mutex
	params map[[2]int]LinkParams
	rnd    linkmodel.Source      // jitter and losses
	target func(node int) string // the node's current P2P address, or ""
	links  []*link
	wg     sync.WaitGroup
	// onSet, when set, is told every change of a link's parameters: the
	// nodes that shape their own links get them over RPC.
	onSet func(from, to int, p LinkParams)
}

func newNetwork(seed int64, target func(int) string, clk clock.Clock) *network {
	return &network{clock: clock.OrReal(clk), params: make(map[[2]int]LinkParams), rnd: linkmodel.Locked(rand.New(rand.NewSource(seed))), target: target}
}

func (n *network) get(from, to int) LinkParams {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.params[[2]int{from, to}]
}

// set changes one direction's parameters; cutting it closes its connections.
func (n *network) set(from, to int, p LinkParams) {
	n.mu.Lock()
	n.params[[2]int{from, to}] = p
	links, onSet := n.links, n.onSet
	n.mu.Unlock()
	if onSet != nil {
		onSet(from, to, p)
	}
	if p.Cut {
		for _, l := range links {
			if (l.from == from && l.to == to) || (l.from == to && l.to == from) {
				l.closeAll()
			}
		}
	}
}

// addLink starts the proxy through which from reaches to.
func (n *network) addLink(from, to int) (*link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("link %d->%d: %w", from, to, err)
	}
	l := &link{from: from, to: to, ln: ln, tn: n, conns: make(map[net.Conn]struct{})}
	n.mu.Lock()
	n.links = append(n.links, l)
	n.mu.Unlock()
	n.wg.Add(1)
	go l.accept()
	return l, nil
}

func (n *network) close() {
	n.mu.Lock()
	links := n.links
	n.mu.Unlock()
	for _, l := range links {
		l.ln.Close()
		l.closeAll()
	}
	n.wg.Wait()
}

func (l *link) addr() string { return l.ln.Addr().String() }

func (l *link) accept() {
	defer l.tn.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.tn.wg.Add(1)
		go func() {
			defer l.tn.wg.Done()
			l.serve(c)
		}()
	}
}

func (l *link) serve(in net.Conn) {
	defer in.Close()
	target := l.tn.target(l.to)
	if target == "" || l.tn.get(l.from, l.to).Cut || l.tn.get(l.to, l.from).Cut {
		return
	}
	out, err := net.DialTimeout("tcp", target, 2*time.Second) // wall-clock: a real dial
	if err != nil {
		return
	}
	defer out.Close()
	if !l.track(in, out) {
		return
	}
	defer l.untrack(in, out)
	done, stop := make(chan struct{}, 2), make(chan struct{})
	defer close(stop)
	go func() { l.pipe(out, in, l.from, l.to, stop); done <- struct{}{} }()
	go func() { l.pipe(in, out, l.to, l.from, stop); done <- struct{}{} }()
	<-done
}

func (l *link) track(conns ...net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tn.get(l.from, l.to).Cut {
		return false
	}
	for _, c := range conns {
		l.conns[c] = struct{}{}
	}
	return true
}

func (l *link) untrack(conns ...net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range conns {
		delete(l.conns, c)
	}
}

func (l *link) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.conns {
		c.Close()
	}
}

type segment struct {
	data []byte
	at   time.Time
}

// pipe relays the bytes from src to dst as the link from->to would carry
// them, a segment (one read) at a time, timed by linkmodel.Stream: each
// waits its turn on the wire (bandwidth), then the one-way latency plus
// jitter, in order; a lost segment is resent, arriving
// linkmodel.RetransmitDelay later, so the stream stays whole as TCP keeps it
// (a dropped piece of an encrypted stream would only break the connection).
// The delays are on the network's clock; it gives up a segment's wait once
// stop is closed.
func (l *link) pipe(dst io.WriteCloser, src io.ReadCloser, from, to int, stop <-chan struct{}) {
	defer dst.Close()
	defer src.Close()
	queue := make(chan segment, 4096)
	go func() {
		defer close(queue)
		var shape linkmodel.Stream
		in := make([]byte, maxSegment)
		for {
			n, err := src.Read(in)
			if err != nil {
				return
			}
			buf := append([]byte(nil), in[:n]...)
			p := l.tn.get(from, to)
			if p.Cut {
				return
			}
			queue <- segment{data: buf, at: shape.Send(l.tn.clock.Now(), n, p, l.tn.rnd)}
		}
	}()
	for f := range queue {
		if d := f.at.Sub(l.tn.clock.Now()); d > 0 && !l.wait(d, stop) {
			for range queue {
			}
			return
		}
		if _, err := dst.Write(f.data); err != nil {
			for range queue {
			}
			return
		}
	}
}

// wait waits d on the network's clock and reports false if stop came first.
func (l *link) wait(d time.Duration, stop <-chan struct{}) bool {
	t := l.tn.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-stop:
		return false
	}
}
