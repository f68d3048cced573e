package node

import (
	"github.com/chaind/chaind/p2p"
	"github.com/chaind/chaind/pos"
	"github.com/chaind/chaind/rpc"
)

// rpcNetwork shows the p2p server to the RPC methods, which do not import p2p.
type rpcNetwork struct{ s *p2p.Server }

var (
	_ rpc.Network           = rpcNetwork{}
	_ rpc.NamespaceProvider = (*pos.Engine)(nil)
)

func (n rpcNetwork) PeerCount() int            { return n.s.PeerCount() }
func (n rpcNetwork) AddPeer(addr string) error { return n.s.AddPeer(addr) }
func (n rpcNetwork) NodeID() string            { return n.s.NodeID() }
func (n rpcNetwork) Addr() string              { return n.s.Addr() }

func (n rpcNetwork) Peers() []rpc.PeerInfo {
	infos := n.s.Peers()
	out := make([]rpc.PeerInfo, len(infos))
	for i, p := range infos {
		out[i] = rpc.PeerInfo{ID: p.ID, RemoteAddr: p.RemoteAddr, ListenAddr: p.ListenAddr, Inbound: p.Inbound,
			Head: p.Head, Height: p.Height, Weight: p.Weight, Latency: p.Latency}
	}
	return out
}

func (n rpcNetwork) SyncStatus() (rpc.SyncStatus, bool) {
	st, ok := n.s.SyncStatus()
	return rpc.SyncStatus{StartingBlock: st.StartingBlock, CurrentBlock: st.CurrentBlock, HighestBlock: st.HighestBlock}, ok
}
