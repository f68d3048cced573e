package node

import (
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/metrics"
	"github.com/chaind/chaind/rpc"
)

// attachMetrics builds the node's Prometheus metrics, counts reorgs from
// the chain's head events, times every JSON-RPC call and serves /metrics
// on the RPC address.
func (n *Node) attachMetrics(srv *rpc.Server) {
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
	if _, _, ok := n.chain.Finality(); ok {
		cfg.Finalized = n.finalizedHeight
	}
	m := metrics.New(cfg)
	n.chain.Subscribe(func(ev chain.HeadEvent) { m.Reorg(len(ev.Removed)) })
	srv.SetObserver(m.ObserveRPC)
	srv.Handle("/metrics", m.Handler())
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
