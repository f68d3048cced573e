package testnet

// Links shaped by the nodes themselves: with a provider whose nodes have
// addresses of their own (directLinks), the nodes dial each other directly
// and the supervisor sets each node's faults over its link_ RPC
// (p2p/linkfault) instead of relaying through its proxies. The parameters
// are the same network's, so the records, the dashboard and the report see
// no difference.

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/chaind/chaind/rpc"
)

// peerAddr is where node from dials node to: to's own address, or the proxy
// from from to to.
func (s *Supervisor) peerAddr(from, to int) string {
	if s.direct != nil {
		return s.direct.PeerAddr(to)
	}
	return s.links[[2]int{from, to}].addr()
}

// setNodeLinks gives a node that has just started its links to every other
// node; the others still hold theirs to it, its address being the same.
func (s *Supervisor) setNodeLinks(i int) error {
	if s.direct == nil {
		return nil
	}
	for j := 0; j < s.opts.Nodes; j++ {
		if p := s.net.get(i, j); j != i && p != (LinkParams{}) {
			if err := s.pushLink(i, j, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// linkChanged sets a link's new parameters on the node that sends on it.
func (s *Supervisor) linkChanged(from, to int, p LinkParams) {
	if err := s.pushLink(from, to, p); err != nil {
		s.log.Warn("Link not set on its node", "from", from, "to", to, "err", err)
	}
}

// pushLink sets on node from, if it runs, its link to node to.
func (s *Supervisor) pushLink(from, to int, p LinkParams) error {
	n, err := s.proc(from)
	if err != nil || n == nil || !n.Alive() {
		return err
	}
	host, _, err := net.SplitHostPort(s.direct.PeerAddr(to))
	if err != nil {
		return fmt.Errorf("node %d's address: %w", to, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // wall-clock: a node's socket
	defer cancel()
	if err := rpc.NewClient(n.RPCURL()).Call(ctx, nil, "link_set", host, p); err != nil {
		return fmt.Errorf("node %d: link to node %d: %w", from, to, err)
	}
	return nil
}
