package loadgen

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/chaind/chaind/wallet"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// Phase is one run of transfers at one batch size.
type Phase struct {
	Mode        string  `json:"mode"` // "unbatched" or "batched"
	Txs         int     `json:"txs"`
	Calls       int     `json:"calls"`                         // JSON-RPC requests sent (a batch is one)
	Seconds     float64 `json:"seconds"`                       // from the first request to the last answer
	AcceptedTPS float64 `json:"accepted_tx_per_second"`        // transfers accepted / Seconds
	MinedTPS    float64 `json:"mined_tx_per_second,omitempty"` // transfers / time until all mined; 0 when not waited for
	P50Ms       float64 `json:"p50_admission_ms"`              // per JSON-RPC request: a batch's answer comes at once
	P99Ms       float64 `json:"p99_admission_ms"`
	P50TxMs     float64 `json:"p50_admission_ms_per_tx"` // a request's time divided by its transfers
	P99TxMs     float64 `json:"p99_admission_ms_per_tx"`
	NodeCPUUs   float64 `json:"node_cpu_us_per_tx,omitempty"` // the node process's CPU time per accepted transfer
	// NodeCPUPerRecovery is NodeCPUUs over Result.RecoveryUs: 1 would be a
	// node that does nothing but recover each sender once.
	NodeCPUPerRecovery float64 `json:"node_cpu_per_recovery,omitempty"`
	Refused            int     `json:"refused"`
	FirstError         string  `json:"first_error,omitempty"`
}

// Result is a load run: an unbatched phase, then a batched one.
type Result struct {
	Senders       int     `json:"senders"`
	Workers       int     `json:"connections"`
	AdmissionOnly bool    `json:"admission_only"`
	Phases        []Phase `json:"phases"`
	PeakRSSMiB    float64 `json:"node_peak_rss_mib,omitempty"`
	// RecoveryUs is the CPU time of one sender recovery, measured in the
	// load generator's process before the first phase (RecoveryCost).
	RecoveryUs float64 `json:"recovery_us"`
}

// Config is a load run against one node.
type Config struct {
	URL     string              // required: the node's JSON-RPC endpoint
	ChainID *big.Int            // required
	Keys    []*ecdsa.PrivateKey // required: funded senders
	Txs     int                 // transfers per phase
	Batch   int                 // calls per JSON-RPC batch in the batched phase
	Workers int                 // concurrent client connections
	// AdmissionOnly ends a phase when its last request is answered, without
	// waiting until its transfers are mined: it measures the node's intake
	// alone, which a node that mines slowly would otherwise hide.
	AdmissionOnly bool
	// NodePID, when not 0, is the node's process: each phase reports the
	// CPU time it used per accepted transfer, a figure that other load on
	// the machine moves far less than the rates.
	NodePID int
	Out     io.Writer // optional: a progress line per phase
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

// Run sends cfg.Txs transfers unbatched, then cfg.Txs in batches; unless
// cfg.AdmissionOnly, each phase waits until its transfers are mined.
func Run(cfg Config) (Result, error) {
	res := Result{Senders: len(cfg.Keys), Workers: cfg.Workers, AdmissionOnly: cfg.AdmissionOnly}
	// One keep-alive connection per worker: the default transport keeps only
	// two idle connections per host, so most workers would dial anew for
	// every request and the run would measure TCP set-up.
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.Workers, MaxConnsPerHost: cfg.Workers, IdleConnTimeout: time.Minute}}
	defer hc.CloseIdleConnections()
	nonce := 0
	for _, size := range []int{1, cfg.Batch} {
		per := cfg.Txs / len(cfg.Keys)
		signed := signTransfers(cfg.Keys, cfg.ChainID, nonce, per)
		nonce += per
		if res.RecoveryUs == 0 {
			d, err := RecoveryCost(signed, cfg.ChainID)
			if err != nil {
				return res, err
			}
			res.RecoveryUs = float64(d.Nanoseconds()) / 1000
			if cfg.Out != nil {
				fmt.Fprintf(cfg.Out, "  one sender recovery in this process: %.1f µs of CPU\n", res.RecoveryUs)
			}
		}
		ph, err := runPhase(hc, cfg, signed, size, nonce)
		if ph.NodeCPUUs > 0 && res.RecoveryUs > 0 {
			ph.NodeCPUPerRecovery = ph.NodeCPUUs / res.RecoveryUs
		}
		if cfg.Out != nil {
			fmt.Fprintln(cfg.Out, ph.String())
		}
		res.Phases = append(res.Phases, ph)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// String is the phase's progress line.
func (ph Phase) String() string {
	mined := "not waited for"
	if ph.MinedTPS > 0 {
		mined = fmt.Sprintf("%.0f tx/s", ph.MinedTPS)
	}
	s := fmt.Sprintf("  %-9s %6d txs in %5d requests: accepted %8.0f tx/s, mined %s; admission per request p50 %.2f ms p99 %.2f ms",
		ph.Mode, ph.Txs, ph.Calls, ph.AcceptedTPS, mined, ph.P50Ms, ph.P99Ms)
	if ph.Mode == "batched" {
		s += fmt.Sprintf(", per transfer p50 %.3f ms p99 %.3f ms", ph.P50TxMs, ph.P99TxMs)
	}
	if ph.NodeCPUUs > 0 {
		s += fmt.Sprintf("; node CPU %.0f µs per transfer", ph.NodeCPUUs)
		if ph.NodeCPUPerRecovery > 0 {
			s += fmt.Sprintf(" (%.2fx one recovery)", ph.NodeCPUPerRecovery)
		}
	}
	s += fmt.Sprintf("; %d refused", ph.Refused)
	if ph.FirstError != "" {
		s += " (first: " + ph.FirstError + ")"
	}
	return s
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
