package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

func (a *api) chaindMethods() map[string]any {
	return map[string]any{
		"chaind_head":       a.head,
		"chaind_blockTree":  a.blockTree,
		"chaind_consensus":  a.consensus,
		"chaind_minerStart": a.minerStart,
		"chaind_minerStop":  a.minerStop,
		"chaind_hashrate":   a.hashrate,
		"chaind_headEvents": a.headEvents,
	}
}

type headJSON struct {
	Number      hexutil.Uint64 `json:"number"`
	Hash        common.Hash    `json:"hash"`
	ParentHash  common.Hash    `json:"parentHash"`
	StateRoot   common.Hash    `json:"stateRoot"`
	TimestampMs hexutil.Uint64 `json:"timestampMs"`
	TotalWeight *hexutil.Big   `json:"totalWeight"`
	Txs         int            `json:"txs"`
}

func (a *api) head(context.Context) (*headJSON, error) {
	b := a.Chain.Head()
	w, err := a.Chain.Weight(b.Hash())
	if err != nil {
		return nil, err
	}
	return &headJSON{
		Number: hexutil.Uint64(b.Height()), Hash: b.Hash(), ParentHash: b.Header.ParentHash,
		StateRoot: b.Header.StateRoot, TimestampMs: hexutil.Uint64(b.Header.Time),
		TotalWeight: (*hexutil.Big)(w), Txs: len(b.Txs),
	}, nil
}

type treeNodeJSON struct {
	Hash        common.Hash    `json:"hash"`
	ParentHash  common.Hash    `json:"parentHash"`
	Number      hexutil.Uint64 `json:"number"`
	TimestampMs hexutil.Uint64 `json:"timestampMs"`
	Miner       common.Address `json:"miner"`
	Txs         int            `json:"txs"`
	Weight      *hexutil.Big   `json:"weight"`
	TotalWeight *hexutil.Big   `json:"totalWeight"`
	Canonical   bool           `json:"canonical"`
	ReceivedMs  int64          `json:"receivedMs,omitempty"` // when this node first saw it (Unix ms)
}

// maxTreeSpan bounds one chaind_blockTree request.
const maxTreeSpan = 4096

// blockTree lists every stored block, canonical or side branch, in a height
// range; by default the last 32 heights.
func (a *api) blockTree(_ context.Context, from, to *hexutil.Uint64) ([]treeNodeJSON, error) {
	head := a.Chain.Head().Height()
	hi := head
	if to != nil {
		hi = uint64(*to)
	}
	lo := uint64(0)
	if hi >= 31 {
		lo = hi - 31
	}
	if from != nil {
		lo = uint64(*from)
	}
	if lo > hi || hi-lo >= maxTreeSpan {
		return nil, invalidParams("range [%d, %d] must be ascending and span at most %d heights", lo, hi, maxTreeSpan)
	}
	nodes, err := a.Chain.BlockTree(lo, hi)
	if err != nil {
		return nil, err
	}
	out := make([]treeNodeJSON, len(nodes))
	for i, n := range nodes {
		out[i] = treeNodeJSON{
			Hash: n.Hash, ParentHash: n.Parent, Number: hexutil.Uint64(n.Height), TimestampMs: hexutil.Uint64(n.Time),
			Miner: n.Coinbase, Txs: n.Txs, Weight: (*hexutil.Big)(n.Weight), TotalWeight: (*hexutil.Big)(n.TotalWeight),
			Canonical: n.Canonical,
		}
		if !n.Received.IsZero() {
			out[i].ReceivedMs = n.Received.UnixMilli()
		}
	}
	return out, nil
}

type consensusJSON struct {
	Engine        string         `json:"engine"`
	ChainID       hexutil.Uint64 `json:"chainId"`
	GenesisHash   common.Hash    `json:"genesisHash"`
	BlockTimeMs   int64          `json:"blockTimeMs"`
	Difficulty    *hexutil.Big   `json:"difficulty"` // of the head block
	BlockReward   *hexutil.Big   `json:"blockReward"`
	BaseFee       *hexutil.Big   `json:"baseFee"`
	GasLimit      hexutil.Uint64 `json:"gasLimit"`
	MaxFutureMs   int64          `json:"maxFutureMs"`
	Finality      string         `json:"finality"`
	GenesisTimeMs hexutil.Uint64 `json:"genesisTimeMs"`
}

// consensus answers chaind_consensus: the common parameters, and those of
// the engine's genesis section as it describes them.
func (a *api) consensus(context.Context) (map[string]any, error) {
	g := a.Chain.Genesis()
	out := &consensusJSON{
		Engine:        g.Consensus,
		ChainID:       hexutil.Uint64(g.ChainID),
		GenesisHash:   a.Chain.GenesisHeader().Hash(),
		BlockTimeMs:   g.BlockTime.D().Milliseconds(),
		Difficulty:    (*hexutil.Big)(a.Chain.Engine().Weight(a.Chain.CurrentHeader())),
		BlockReward:   (*hexutil.Big)(g.BlockReward.Big()),
		BaseFee:       (*hexutil.Big)(g.BaseFee.Big()),
		GasLimit:      hexutil.Uint64(g.GasLimit),
		MaxFutureMs:   g.MaxFuture.D().Milliseconds(),
		Finality:      "none (probabilistic)",
		GenesisTimeMs: hexutil.Uint64(a.Chain.GenesisHeader().Time),
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	if g.Engine != nil {
		maps.Copy(fields, g.Engine.Describe())
	}
	return fields, nil
}

var errNoMiner = errors.New("this node has no miner")

func (a *api) minerStart(context.Context) (bool, error) {
	if a.Miner == nil {
		return false, errNoMiner
	}
	a.Miner.Start()
	return true, nil
}

func (a *api) minerStop(context.Context) (bool, error) {
	if a.Miner == nil {
		return false, errNoMiner
	}
	a.Miner.Stop()
	return true, nil
}

type hashrateJSON struct {
	Mining          bool         `json:"mining"`
	Threads         int          `json:"threads"`
	HashesPerSecond float64      `json:"hashesPerSecond"`
	Difficulty      *hexutil.Big `json:"difficulty"`
	// ExpectedBlockTimeMs is difficulty / hashrate: how long this miner alone
	// would take on average.
	ExpectedBlockTimeMs float64 `json:"expectedBlockTimeMs,omitempty"`
}

func (a *api) hashrate(context.Context) (*hashrateJSON, error) {
	if a.Miner == nil {
		return nil, errNoMiner
	}
	d := a.Chain.Engine().Weight(a.Chain.CurrentHeader())
	out := &hashrateJSON{Mining: a.Miner.Mining(), Threads: a.Miner.Threads(), HashesPerSecond: a.Miner.Hashrate(), Difficulty: (*hexutil.Big)(d)}
	if out.HashesPerSecond > 0 {
		df, _ := new(big.Float).SetInt(d).Float64()
		out.ExpectedBlockTimeMs = df / out.HashesPerSecond * 1000
	}
	return out, nil
}
