package node

import (
	"errors"
	"time"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/metrics"
	"github.com/chaind/chaind/rpc"
	"github.com/prometheus/client_golang/prometheus"
)

// newMetrics builds the node's Prometheus metrics and counts reorgs from
// the chain's head events; Start serves them at /metrics on the RPC address.
func (n *Node) newMetrics() *metrics.Metrics {
	cfg := metrics.Config{
		HeadHeight: func() uint64 { return n.chain.Head().Height() },
		Peers:      func() int { return n.p2p.PeerCount() },
		MempoolPending: func() int {
			pending, _ := n.pool.Status()
			return pending
		},
	}
	if n.miner != nil {
		cfg.Hashrate = n.miner.Hashrate
	}
	if c, ok := n.producer.(prometheus.Collector); ok {
		cfg.Engine = append(cfg.Engine, c)
	}
	if _, _, ok := n.chain.Finality(); ok {
		cfg.Finalized = n.finalizedHeight
	}
	m := metrics.New(cfg)
	n.chain.Subscribe(func(ev chain.HeadEvent) { m.Reorg(len(ev.Removed)) })
	return m
}

// observeRPC times every JSON-RPC call for the metrics (unknown methods
// are left out, so that a client cannot grow the label set) and passes
// the call on to Config.RPCObserve when set.
func (n *Node) observeRPC() func(method string, d time.Duration, err error) {
	return func(method string, d time.Duration, err error) {
		var e *rpc.Error
		if !errors.As(err, &e) || e.Code != rpc.CodeMethodNotFound {
			n.metrics.ObserveRPC(method, d)
		}
		if n.cfg.RPCObserve != nil {
			n.cfg.RPCObserve(method, d, err)
		}
	}
}

// finalizedHeight is the height of the last finalized block; false when
// nothing is finalized yet.
func (n *Node) finalizedHeight() (uint64, bool) {
	hash, _, ok := n.chain.Finality()
	if !ok || hash == ([32]byte{}) {
		return 0, false
	}
	b, err := n.chain.BlockByHash(hash)
	if err != nil {
		return 0, false
	}
	return b.Height(), true
}
