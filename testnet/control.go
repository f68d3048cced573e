package testnet

import (
	"context"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// The supervisor's control API: JSON-RPC on a loopback port recorded in
// DIR/testnet.json, used by the chaind testnet subcommands.

func (s *Supervisor) serveControl() error {
	srv := rpc.NewServer(s.log)
	methods := map[string]any{
		"testnet_ping":   func(context.Context) (bool, error) { return true, nil },
		"testnet_status": func(ctx context.Context) ([]NodeStatus, error) { return s.Status(ctx), nil },
		"testnet_partition": func(_ context.Context, groups [][]int) (bool, error) {
			return true, s.Partition(groups)
		},
		"testnet_heal":    func(context.Context) (bool, error) { s.Heal(); return true, nil },
		"testnet_kill":    func(_ context.Context, n int) (bool, error) { return true, s.Kill(n) },
		"testnet_restart": func(_ context.Context, n int) (bool, error) { return true, s.Restart(n) },
		"testnet_setLink": func(_ context.Context, a, b int, p LinkParams) (bool, error) {
			return true, s.SetLink(a, b, p)
		},
		"testnet_send": func(_ context.Context, count int, rate float64) (bool, error) {
			return true, s.SendTxs(count, rate)
		},
		"testnet_down": func(context.Context) (bool, error) {
			go func() {
				time.Sleep(50 * time.Millisecond) // wall-clock: let the HTTP answer leave the socket first
				s.Down()
			}()
			return true, nil
		},
	}
	for name, fn := range methods {
		if err := srv.Register(name, fn); err != nil {
			return err
		}
	}
	ln, err := listenLoopback()
	if err != nil {
		return fmt.Errorf("testnet control: %w", err)
	}
	s.ctlAddr = ln.Addr().String()
	s.ctl = &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go s.ctl.Serve(ln)
	return nil
}

// NodeStatus is one line of `chaind testnet status`.
type NodeStatus struct {
	Index     int         `json:"index"`
	Alive     bool        `json:"alive"`
	RPC       string      `json:"rpc"`
	Height    uint64      `json:"height"`
	Head      common.Hash `json:"head"`
	Peers     int         `json:"peers"`
	Pending   int         `json:"pending"`
	Queued    int         `json:"queued"`
	Weight    *big.Int    `json:"totalWeight"`
	Finalized *uint64     `json:"finalized"` // nil: nothing finalized (PoW)
	Mining    bool        `json:"mining"`
	Hashrate  float64     `json:"hashrate"`
	// Round and Step are where the node's consensus state machine is, on
	// an engine of rounds (BFT, bft_status), Step "decided" once it decided
	// its height and waits for the next; nil and "" otherwise.
	Round *int32 `json:"round,omitempty"`
	Step  string `json:"step,omitempty"`
	Error string `json:"error,omitempty"`
}

// Status asks every live node for its head, peers, mempool and miner.
func (s *Supervisor) Status(ctx context.Context) []NodeStatus {
	out := make([]NodeStatus, s.opts.Nodes)
	for i := range out {
		out[i].Index = i
		p, _ := s.proc(i)
		if p == nil || !p.Alive() {
			continue
		}
		out[i].Alive, out[i].RPC = true, p.RPCURL()
		c := rpc.NewClient(p.RPCURL())
		var head struct {
			Number hexutil.Uint64 `json:"number"`
			Hash   common.Hash    `json:"hash"`
			Weight *hexutil.Big   `json:"totalWeight"`
		}
		var peers hexutil.Uint
		var pool struct{ Pending, Queued hexutil.Uint }
		var fin *struct {
			Number hexutil.Uint64 `json:"number"`
		}
		var miner struct {
			Mining          bool    `json:"mining"`
			HashesPerSecond float64 `json:"hashesPerSecond"`
		}
		var machine struct {
			Machine *struct {
				Round   int32  `json:"round"`
				Step    string `json:"step"`
				Decided bool   `json:"decided"`
			} `json:"machine"`
		}
		batch := []rpc.BatchElem{
			{Method: "chaind_head", Result: &head},
			{Method: "net_peerCount", Result: &peers},
			{Method: "txpool_status", Result: &pool},
			{Method: "eth_getBlockByNumber", Params: []any{"finalized", false}, Result: &fin},
			{Method: "chaind_hashrate", Result: &miner}, // fails on a PoS node: it has no miner
			{Method: "bft_status", Result: &machine},    // fails on another engine's node
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.BatchCall(cctx, batch)
		cancel()
		for _, e := range batch[:4] {
			if err == nil {
				err = e.Error
			}
		}
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		out[i].Height, out[i].Head, out[i].Peers, out[i].Weight = uint64(head.Number), head.Hash, int(peers), head.Weight.ToInt()
		out[i].Pending, out[i].Queued, out[i].Mining, out[i].Hashrate = int(pool.Pending), int(pool.Queued), miner.Mining, miner.HashesPerSecond
		if fin != nil {
			n := uint64(fin.Number)
			out[i].Finalized = &n
		}
		if m := machine.Machine; m != nil {
			out[i].Round, out[i].Step = &m.Round, m.Step
			if m.Decided {
				out[i].Step = "decided"
			}
		}
	}
	return out
}

// Control is a client of a running supervisor.
type Control struct {
	*rpc.Client
	State *State
}

// Dial finds the supervisor of the testnet in dir.
func Dial(dir string) (*Control, error) {
	st, err := ReadState(dir)
	if err != nil {
		return nil, err
	}
	c := rpc.NewClient(st.Control)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Call(ctx, nil, "testnet_ping"); err != nil {
		return nil, fmt.Errorf("the testnet in %s is not running (%v)", dir, err)
	}
	return &Control{Client: c, State: st}, nil
}
