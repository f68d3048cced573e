package testnet

// Links shaped by the nodes themselves: every provider gives its nodes
// addresses of their own, known before they start (a loopback address per
// process, a container's on the testnet's network); the nodes dial each
// other there directly, and the supervisor sets each node's faults over its
// link_ RPC (p2p/linkfault) as the network's parameters change, and gives
// each node its links in a file as it starts. The records, the dashboard
// and the report read the parameters here.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chaind/chaind/linkmodel"
	"github.com/chaind/chaind/rpc"
)

// LinkParams shape one direction of a link (bandwidth in bytes per second),
// as linkmodel models it for p2p/linkfault, p2p/memnet and netsim.
type LinkParams = linkmodel.Params

// network holds every directed link's parameters: from's link to to shapes
// what from sends to to.
type network struct {
	mu     sync.Mutex
	params map[[2]int]LinkParams
	// onSet, when set, is told every change of a link's parameters: the
	// supervisor sets it on the node that sends on the link.
	onSet func(from, to int, p LinkParams)
}

func newNetwork() *network {
	return &network{params: make(map[[2]int]LinkParams)}
}

func (n *network) get(from, to int) LinkParams {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.params[[2]int{from, to}]
}

// set changes one direction's parameters.
func (n *network) set(from, to int, p LinkParams) {
	n.mu.Lock()
	n.params[[2]int{from, to}] = p
	onSet := n.onSet
	n.mu.Unlock()
	if onSet != nil {
		onSet(from, to, p)
	}
}

// linksFile is where node i finds its links at start (--p2p.links).
func (s *Supervisor) linksFile(i int) string { return filepath.Join(s.nodeDir(i), "links.json") }

// writeNodeLinks writes node i's links to every other node for it to shape
// from its first byte (--p2p.links): a node starting or restarting during a
// partition never reaches across it. The others hold theirs to it, under
// the address it has (followPeer).
func (s *Supervisor) writeNodeLinks(i int) error {
	links := make(map[string]LinkParams)
	for j := 0; j < s.opts.Nodes; j++ {
		if p := s.net.get(i, j); j != i && p != (LinkParams{}) && s.peerIP(j) != "" {
			links[s.peerIP(j)] = p
		}
	}
	data, err := json.Marshal(links)
	if err != nil {
		return err
	}
	return os.WriteFile(s.linksFile(i), data, 0o644)
}

// setNodeLinks sets again, once node i runs, its links to every other node,
// for a change made while it started.
func (s *Supervisor) setNodeLinks(i int) error {
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

// peerIP is node i's IP address, by which its peers shape their links to
// it ("" while a node whose address moves has not started).
func (s *Supervisor) peerIP(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.linkIPs[i]
}

// followPeer moves the other nodes' links to node i to the address it has
// now that it has started: on a swarm a task started again has a new one,
// and the links held under the old are dropped.
func (s *Supervisor) followPeer(i int) error {
	ip := s.provider.PeerIP(i)
	s.mu.Lock()
	old := s.linkIPs[i]
	s.linkIPs[i] = ip
	s.mu.Unlock()
	if old == ip {
		return nil
	}
	for j := 0; j < s.opts.Nodes; j++ {
		if j == i {
			continue
		}
		if old != "" {
			if err := s.setOn(j, old, LinkParams{}); err != nil {
				return err
			}
		}
		if p := s.net.get(j, i); p != (LinkParams{}) {
			if err := s.setOn(j, ip, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// pushLink sets on node from, if it runs, its link to node to.
func (s *Supervisor) pushLink(from, to int, p LinkParams) error {
	if host := s.peerIP(to); host != "" {
		return s.setOn(from, host, p)
	}
	return nil
}

// setOn sets on node from, if it runs, its link to the peer at host.
func (s *Supervisor) setOn(from int, host string, p LinkParams) error {
	n, err := s.proc(from)
	if err != nil || n == nil || !n.Alive() {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // wall-clock: a node's socket
	defer cancel()
	if err := rpc.NewClient(n.RPCURL()).Call(ctx, nil, "link_set", host, p); err != nil {
		return fmt.Errorf("node %d: link to %s: %w", from, host, err)
	}
	return nil
}
