package rpc

import (
	"context"
	"errors"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

func (a *api) adminMethods() map[string]any {
	return map[string]any{
		"admin_peers":    a.peers,
		"admin_addPeer":  a.addPeer,
		"admin_nodeInfo": a.nodeInfo,
	}
}

var errNoP2P = errors.New("this node has no peer-to-peer networking")

type peerJSON struct {
	ID         string `json:"id"`
	RemoteAddr string `json:"address"`
	ListenAddr string `json:"listenAddr"`
	Direction  string `json:"direction"`
	Head       struct {
		Hash        common.Hash    `json:"hash"`
		Number      hexutil.Uint64 `json:"number"`
		TotalWeight *hexutil.Big   `json:"totalWeight"`
	} `json:"head"`
	LatencyMs float64 `json:"latencyMs"`
}

func (a *api) peers(context.Context) ([]peerJSON, error) {
	if a.P2P == nil {
		return nil, errNoP2P
	}
	infos := a.P2P.Peers()
	out := make([]peerJSON, len(infos))
	for i, p := range infos {
		out[i] = peerJSON{ID: p.ID, RemoteAddr: p.RemoteAddr, ListenAddr: p.ListenAddr, Direction: "outbound",
			LatencyMs: float64(p.Latency.Microseconds()) / 1000}
		if p.Inbound {
			out[i].Direction = "inbound"
		}
		out[i].Head.Hash, out[i].Head.Number, out[i].Head.TotalWeight = p.Head, hexutil.Uint64(p.Height), (*hexutil.Big)(p.Weight)
	}
	return out, nil
}

func (a *api) addPeer(_ context.Context, addr string) (bool, error) {
	if a.P2P == nil {
		return false, errNoP2P
	}
	if err := a.P2P.AddPeer(addr); err != nil {
		return false, invalidParams("%v", err)
	}
	return true, nil
}

type nodeInfoJSON struct {
	ID         string `json:"id"`
	ListenAddr string `json:"listenAddr"`
	Peers      int    `json:"peers"`
}

func (a *api) nodeInfo(context.Context) (*nodeInfoJSON, error) {
	if a.P2P == nil {
		return nil, errNoP2P
	}
	return &nodeInfoJSON{ID: a.P2P.NodeID(), ListenAddr: a.P2P.Addr(), Peers: a.P2P.PeerCount()}, nil
}

type syncingJSON struct {
	StartingBlock hexutil.Uint64 `json:"startingBlock"`
	CurrentBlock  hexutil.Uint64 `json:"currentBlock"`
	HighestBlock  hexutil.Uint64 `json:"highestBlock"`
}

// syncing answers false, or the progress of a running sync, as Ethereum's
// eth_syncing does.
func (a *api) syncing(context.Context) (any, error) {
	if a.P2P == nil {
		return false, nil
	}
	st, ok := a.P2P.SyncStatus()
	if !ok {
		return false, nil
	}
	return syncingJSON{StartingBlock: hexutil.Uint64(st.StartingBlock), CurrentBlock: hexutil.Uint64(st.CurrentBlock), HighestBlock: hexutil.Uint64(st.HighestBlock)}, nil
}
