package rpc_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	ct "github.com/chaind/chaind/chain/chaintest"
	"github.com/chaind/chaind/clock"
	"github.com/chaind/chaind/mempool"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// benchConns is the number of concurrent keep-alive connections, as
// chaind bench tx opens by default on two cores.
const benchConns = 16

// BenchmarkSendRawTransaction measures the server's intake of signed
// transfers through eth_sendRawTransaction over loopback HTTP into a real
// chain (in-memory LevelDB) and mempool: one transfer per request, and
// batches of 100. The request bodies are encoded before the timer starts,
// so the client's share is net/http's alone. Profile it with
// -cpuprofile; docs/perf/rpc-intake-profile.txt is one. cpu-ns/op is the
// process's CPU time (server and client) per transfer.
func BenchmarkSendRawTransaction(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			bodies := signedBodies(b, b.N, batch)
			hs := benchServer(b, b.N, clock.NewSim(time.Unix(1_700_000_000, 0)))
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConns, MaxConnsPerHost: benchConns}}
			defer hc.CloseIdleConnections()
			work := make(chan []byte, len(bodies))
			for _, body := range bodies {
				work <- body
			}
			close(work)
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.ResetTimer()
			var wg sync.WaitGroup
			for range benchConns {
				wg.Go(func() {
					for body := range work {
						if err := postExpectOK(hc, hs.URL, body); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// benchPerSender is how many transfers each sender signs, about what
// chaind bench tx sends per sender and phase by default (20,000 from 64).
const benchPerSender = 300

// processCPU is the CPU time the process (server and client) has used: on
// a shared machine it moves far less with other load than wall time does.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// signedBodies signs n transfers, benchPerSender per sender, and encodes
// them as request bodies of batch calls. The workers take bodies in order
// but answer out of order, so some nonces arrive before their predecessors
// and wait in the pool's queue, as they do under bench tx.
func signedBodies(b testing.TB, n, batch int) [][]byte {
	b.Helper()
	g := ct.Genesis(n/benchPerSender + 1)
	var bodies [][]byte
	var buf bytes.Buffer
	calls := 0
	for i := range n {
		tx := ct.Transfer(g, i/benchPerSender, uint64(i%benchPerSender), common.Address{0xbe}, common.Big1)
		raw, err := tx.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		if calls > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"jsonrpc":"2.0","id":%d,"method":"eth_sendRawTransaction","params":["%s"]}`, i, hexutil.Encode(raw))
		calls++
		if calls == batch || i == n-1 {
			body := buf.Bytes()
			if batch > 1 {
				body = append(append([]byte{'['}, body...), ']')
			}
			bodies = append(bodies, bytes.Clone(body))
			buf.Reset()
			calls = 0
		}
	}
	return bodies
}

// benchServer serves a chain funding the senders of signedBodies(maxTxs)
// and a pool that holds them all; clk is the server's clock.
func benchServer(b testing.TB, maxTxs int, clk clock.Clock) *httptest.Server {
	g := ct.Genesis(maxTxs/benchPerSender + 1)
	c := ct.NewChain(b, g, ct.NewClock(ct.GenesisTime))
	pool := mempool.New(mempool.Config{Chain: c, MaxTxs: maxTxs + 1})
	c.Subscribe(pool.Reset)
	srv, err := rpc.New(rpc.Config{Chain: c, Pool: pool, Version: "bench", APIs: rpc.DevAPIs,
		Server: rpc.ServerConfig{Logger: slog.New(slog.DiscardHandler), Clock: clk}})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(func() {
		srv.Close()
		hs.Close()
	})
	return hs
}

// postExpectOK posts body and checks that no call of it was refused.
func postExpectOK(hc *http.Client, url string, body []byte) error {
	resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"error"`)) {
		return fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, out)
	}
	return nil
}
