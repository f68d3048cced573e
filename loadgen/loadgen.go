package loadgen

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"math/big"
	"sort"
	"sync"
	"time"

	"github.com/chaind/chaind/rpc"
	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Phase is one run of transfers at one batch size.
type Phase struct {
	Mode        string  `json:"mode"` // "unbatched" or "batched"
	Txs         int     `json:"txs"`
	AcceptedTPS float64 `json:"accepted_tx_per_second"`
	MinedTPS    float64 `json:"mined_tx_per_second"`
	P50Ms       float64 `json:"p50_admission_ms"` // per JSON-RPC call
	P99Ms       float64 `json:"p99_admission_ms"`
	Refused     int     `json:"refused"`
}

// Result is a load run: an unbatched phase, then a batched one.
type Result struct {
	Senders    int     `json:"senders"`
	Phases     []Phase `json:"phases"`
	PeakRSSMiB float64 `json:"node_peak_rss_mib,omitempty"`
}

// Config is a load run against one node.
type Config struct {
	URL     string              // required: the node's JSON-RPC endpoint
	ChainID *big.Int            // required
	Keys    []*ecdsa.PrivateKey // required: funded senders
	Txs     int                 // transfers per phase
	Batch   int                 // calls per JSON-RPC batch in the batched phase
	Workers int                 // concurrent client connections
	Out     io.Writer           // optional: a progress line per phase
}

// NewKeys makes n fresh sender keys.
func NewKeys(n int) ([]*ecdsa.PrivateKey, error) {
	keys := make([]*ecdsa.PrivateKey, n)
	for i := range keys {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
}

// Run sends cfg.Txs transfers unbatched, then cfg.Txs in batches, each
// phase waiting until its transfers are mined.
func Run(cfg Config) (Result, error) {
	res := Result{Senders: len(cfg.Keys)}
	nonce := 0
	for _, size := range []int{1, cfg.Batch} {
		per := cfg.Txs / len(cfg.Keys)
		signed := signTransfers(cfg.Keys, cfg.ChainID, nonce, per)
		nonce += per
		ph, err := runPhase(cfg.URL, cfg.Keys, signed, size, cfg.Workers, nonce)
		if err != nil {
			return res, err
		}
		if cfg.Out != nil {
			fmt.Fprintf(cfg.Out, "  %-9s %6d txs: accepted %8.0f tx/s, mined %8.0f tx/s, admission p50 %.2f ms p99 %.2f ms per call, %d refused\n",
				ph.Mode, ph.Txs, ph.AcceptedTPS, ph.MinedTPS, ph.P50Ms, ph.P99Ms, ph.Refused)
		}
		res.Phases = append(res.Phases, ph)
	}
	return res, nil
}

// FundSenders pays every key from funder, enough for txs transfers in all,
// waits until the payments are mined, and returns the node's chain id.
func FundSenders(url string, funder *ecdsa.PrivateKey, keys []*ecdsa.PrivateKey, txs int) (*big.Int, error) {
	c := rpc.NewClient(url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var id hexutil.Uint64
	if err := c.Call(ctx, &id, "eth_chainId"); err != nil {
		return nil, err
	}
	each := new(big.Int).Mul(big.NewInt(int64(2*txs/len(keys)+10)), big.NewInt(1e15))
	var last *types.Transaction
	var err error
	for _, k := range keys {
		if last, err = wallet.Send(ctx, c, funder, crypto.PubkeyToAddress(k.PublicKey), each, wallet.SendOptions{}); err != nil {
			return nil, fmt.Errorf("fund senders: %w", err)
		}
	}
	if _, err := wallet.WaitReceipt(ctx, c, last.Hash(), 200*time.Millisecond); err != nil {
		return nil, err
	}
	return new(big.Int).SetUint64(uint64(id)), nil
}

// signTransfers signs per transfers for each key from nonce on, on all cores.
func signTransfers(keys []*ecdsa.PrivateKey, chainID *big.Int, nonce, per int) [][]hexutil.Bytes {
	out := make([][]hexutil.Bytes, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < per; n++ {
				tx, err := wallet.Transfer{ChainID: chainID, Nonce: uint64(nonce + n), To: common.Address{0xbe, byte(i)}, Value: big.NewInt(1),
					TipCap: big.NewInt(1e9), FeeCap: big.NewInt(3e9)}.Sign(k)
				if err != nil {
					panic(err) // signing a well-formed transfer with a valid key cannot fail
				}
				raw, _ := tx.MarshalBinary()
				out[i] = append(out[i], raw)
			}
		}()
	}
	wg.Wait()
	return out
}

// runPhase sends every sender's transfers in order, batchSize per call, over
// workers connections, then waits until each sender's nonce reaches target.
func runPhase(url string, keys []*ecdsa.PrivateKey, signed [][]hexutil.Bytes, batchSize, workers, target int) (Phase, error) {
	ph := Phase{Mode: "unbatched"}
	if batchSize > 1 {
		ph.Mode = "batched"
	}
	var mu sync.Mutex
	var lat []float64
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := rpc.NewClient(url)
			ctx := context.Background()
			for s := w; s < len(signed); s += workers {
				txs := signed[s]
				for i := 0; i < len(txs); i += batchSize {
					chunk := txs[i:min(i+batchSize, len(txs))]
					elems := make([]rpc.BatchElem, len(chunk))
					for j, raw := range chunk {
						elems[j] = rpc.BatchElem{Method: "eth_sendRawTransaction", Params: []any{raw}}
					}
					t0 := time.Now()
					var err error
					if batchSize == 1 {
						err = c.Call(ctx, nil, "eth_sendRawTransaction", chunk[0])
						elems[0].Error = err
					} else {
						err = c.BatchCall(ctx, elems)
					}
					d := float64(time.Since(t0).Microseconds()) / 1000
					mu.Lock()
					lat = append(lat, d)
					for _, e := range elems {
						if e.Error != nil || err != nil {
							ph.Refused++
						}
					}
					ph.Txs += len(chunk)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	ph.AcceptedTPS = float64(ph.Txs-ph.Refused) / sent.Seconds()
	sort.Float64s(lat)
	if len(lat) > 0 {
		ph.P50Ms, ph.P99Ms = lat[len(lat)/2], lat[min(len(lat)*99/100, len(lat)-1)]
	}
	if ph.Refused > 0 {
		return ph, fmt.Errorf("%d of %d transfers refused", ph.Refused, ph.Txs)
	}
	c := rpc.NewClient(url)
	deadline := time.Now().Add(5 * time.Minute)
	for _, k := range keys {
		addr := crypto.PubkeyToAddress(k.PublicKey)
		for {
			var n hexutil.Uint64
			if err := c.Call(context.Background(), &n, "eth_getTransactionCount", addr, "latest"); err != nil {
				return ph, err
			}
			if int(n) >= target {
				break
			}
			if time.Now().After(deadline) {
				return ph, fmt.Errorf("transfers of %s not mined after 5 minutes", addr.Hex())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ph.MinedTPS = float64(ph.Txs) / time.Since(start).Seconds()
	return ph, nil
}
