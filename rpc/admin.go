package rpc

import (
	"context"
	"errors"
	"math/big"
	"time"

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

// Network is the peer-to-peer side as the RPC methods see it; the node
// adapts its p2p server to it.
type Network interface {
	Peers() []PeerInfo
	PeerCount() int
	AddPeer(addr string) error
	NodeID() string
	Addr() string
	SyncStatus() (SyncStatus, bool) // false when not syncing
}

// PeerInfo describes one connected peer.
type PeerInfo struct {
	ID         string
	RemoteAddr string
	ListenAddr string
	Inbound    bool
	Head       common.Hash
	Height     uint64
	Weight     *big.Int
	Latency    time.Duration
}

// SyncStatus is the progress of a running sync.
type SyncStatus struct {
	StartingBlock, CurrentBlock, HighestBlock uint64
}

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
	if a.Network == nil {
		return nil, errNoP2P
	}
	infos := a.Network.Peers()
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
	if a.Network == nil {
		return false, errNoP2P
	}
	if err := a.Network.AddPeer(addr); err != nil {
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
	if a.Network == nil {
		return nil, errNoP2P
	}
	return &nodeInfoJSON{ID: a.Network.NodeID(), ListenAddr: a.Network.Addr(), Peers: a.Network.PeerCount()}, nil
}

type syncingJSON struct {
	StartingBlock hexutil.Uint64 `json:"startingBlock"`
	CurrentBlock  hexutil.Uint64 `json:"currentBlock"`
	HighestBlock  hexutil.Uint64 `json:"highestBlock"`
}

// syncing answers false, or the progress of a running sync, as Ethereum's
// eth_syncing does.
func (a *api) syncing(context.Context) (any, error) {
	if a.Network == nil {
		return false, nil
	}
	st, ok := a.Network.SyncStatus()
	if !ok {
		return false, nil
	}
	return syncingJSON{StartingBlock: hexutil.Uint64(st.StartingBlock), CurrentBlock: hexutil.Uint64(st.CurrentBlock), HighestBlock: hexutil.Uint64(st.HighestBlock)}, nil
}
