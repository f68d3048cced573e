package loadgen

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// request is one encoded JSON-RPC request body carrying n transfers.
type request struct {
	body []byte
	n    int
}

// encodeRequests encodes each sender's transfers as request bodies of
// batchSize calls (a bare call when batchSize is 1), before the clock
// starts: the load generator shares the machine with the node, so the less
// it works while measuring, the more the figures are the node's.
func encodeRequests(signed [][]hexutil.Bytes, batchSize int) [][]request {
	out := make([][]request, len(signed))
	id := 0
	for s, txs := range signed {
		for i := 0; i < len(txs); i += batchSize {
			chunk := txs[i:min(i+batchSize, len(txs))]
			var b bytes.Buffer
			if batchSize > 1 {
				b.WriteByte('[')
			}
			for j, raw := range chunk {
				if j > 0 {
					b.WriteByte(',')
				}
				id++
				b.WriteString(`{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"eth_sendRawTransaction","params":["`)
				b.WriteString(hexutil.Encode(raw))
				b.WriteString(`"]}`)
			}
			if batchSize > 1 {
				b.WriteByte(']')
			}
			out[s] = append(out[s], request{body: b.Bytes(), n: len(chunk)})
		}
	}
	return out
}

// post sends one request and returns the errors of its refused calls (an
// error for every call when the request as a whole failed).
func post(hc *http.Client, url string, r request) []string {
	fail := func(err error) []string { return slices.Repeat([]string{err.Error()}, r.n) }
	resp, err := hc.Post(url, "application/json", bytes.NewReader(r.body))
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, out))
	}
	if !bytes.Contains(out, []byte(`"error"`)) { // results are hashes: all accepted
		return nil
	}
	var answers []struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if out = bytes.TrimSpace(out); len(out) > 0 && out[0] != '[' {
		out = append(append([]byte{'['}, out...), ']')
	}
	if err := json.Unmarshal(out, &answers); err != nil {
		return fail(fmt.Errorf("undecodable answer %.200q: %w", out, err))
	}
	var errs []string
	for _, a := range answers {
		if a.Error != nil {
			errs = append(errs, fmt.Sprintf("%s (code %d)", a.Error.Message, a.Error.Code))
		}
	}
	return errs
}

// runPhase sends every sender's transfers in order, batchSize per request,
// over cfg.Workers connections; unless cfg.AdmissionOnly it then waits
// until each sender's nonce reaches target.
func runPhase(hc *http.Client, cfg Config, signed [][]hexutil.Bytes, batchSize, target int) (Phase, error) {
	ph := Phase{Mode: "unbatched"}
	if batchSize > 1 {
		ph.Mode = "batched"
	}
	reqs := encodeRequests(signed, batchSize)
	var mu sync.Mutex
	var perCall, perTx []float64
	cpu0, cpuErr := nodeCPU(cfg.NodePID)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Go(func() {
			for s := w; s < len(reqs); s += cfg.Workers {
				for _, r := range reqs[s] {
					t0 := time.Now()
					errs := post(hc, cfg.URL, r)
					d := float64(time.Since(t0).Microseconds()) / 1000
					mu.Lock()
					perCall = append(perCall, d)
					perTx = append(perTx, d/float64(r.n))
					ph.Calls++
					ph.Txs += r.n
					if len(errs) > 0 && ph.Refused == 0 {
						ph.FirstError = errs[0]
					}
					ph.Refused += len(errs)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	if cpu1, err := nodeCPU(cfg.NodePID); cpuErr == nil && err == nil && ph.Txs > ph.Refused {
		ph.NodeCPUUs = float64((cpu1 - cpu0).Microseconds()) / float64(ph.Txs-ph.Refused)
	}
	ph.Seconds = sent.Seconds()
	ph.AcceptedTPS = float64(ph.Txs-ph.Refused) / sent.Seconds()
	ph.P50Ms, ph.P99Ms = percentiles(perCall)
	ph.P50TxMs, ph.P99TxMs = percentiles(perTx)
	if ph.Refused > 0 {
		return ph, fmt.Errorf("%d of %d transfers refused; the first: %s", ph.Refused, ph.Txs, ph.FirstError)
	}
	if cfg.AdmissionOnly {
		return ph, nil
	}
	if err := waitNonces(cfg.URL, cfg.Keys, target, 5*time.Minute); err != nil {
		return ph, err
	}
	ph.MinedTPS = float64(ph.Txs) / time.Since(start).Seconds()
	return ph, nil
}

// nodeCPU is ProcessCPU of pid, or an error for pid 0 (not known).
func nodeCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, errors.New("no node process")
	}
	return ProcessCPU(pid)
}

// percentiles returns the median and the 99th percentile of xs (nearest
// rank), or zeros for none. It sorts xs.
func percentiles(xs []float64) (p50, p99 float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	slices.Sort(xs)
	return xs[(len(xs)-1)/2], xs[(len(xs)*99+99)/100-1]
}

// waitNonces polls until every key's mined nonce reaches target.
func waitNonces(url string, keys []*ecdsa.PrivateKey, target int, limit time.Duration) error {
	c := rpc.NewClient(url)
	deadline := time.Now().Add(limit)
	for _, k := range keys {
		addr := crypto.PubkeyToAddress(k.PublicKey)
		for {
			var n hexutil.Uint64
			if err := c.Call(context.Background(), &n, "eth_getTransactionCount", addr, "latest"); err != nil {
				return err
			}
			if int(n) >= target {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("transfers of %s not mined after %v", addr.Hex(), limit)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}
