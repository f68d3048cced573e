package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestGaugesReadAtScrape(t *testing.T) {
	height, peers := uint64(7), 3
	m := New(Config{
		HeadHeight:     func() uint64 { return height },
		Peers:          func() int { return peers },
		MempoolPending: func() int { return 11 },
		Finalized:      func() (uint64, bool) { return 4, true },
	})
	out := scrape(t, m)
	for _, want := range []string{"chaind_head_height 7\n", "chaind_peers 3\n", "chaind_mempool_pending 11\n", "chaind_finalized_height 4\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "chaind_hashrate") {
		t.Error("a node without a miner exports chaind_hashrate")
	}
	height, peers = 9, 0
	out = scrape(t, m)
	if !strings.Contains(out, "chaind_head_height 9\n") || !strings.Contains(out, "chaind_peers 0\n") {
		t.Errorf("gauges not read again at the second scrape:\n%s", out)
	}
}

func TestReorgsAndRPC(t *testing.T) {
	m := New(Config{HeadHeight: func() uint64 { return 0 }, Peers: func() int { return 0 }, MempoolPending: func() int { return 0 },
		Hashrate: func() float64 { return 1.5e6 }})
	for _, d := range []int{0, 1, 0, 3, 20} {
		m.Reorg(d)
	}
	if got := testutil.ToFloat64(m.reorgs); got != 3 {
		t.Fatalf("chaind_reorgs_total = %v, want 3 (depth 0 is no reorg)", got)
	}
	m.ObserveRPC("eth_blockNumber", 2*time.Millisecond)
	m.ObserveRPC("eth_blockNumber", 3*time.Millisecond)
	out := scrape(t, m)
	for _, want := range []string{
		"chaind_reorg_depth_sum 24\n", "chaind_reorg_depth_count 3\n", `chaind_reorg_depth_bucket{le="1"} 1`, `chaind_reorg_depth_bucket{le="4"} 2`,
		`chaind_rpc_request_duration_seconds_count{method="eth_blockNumber"} 2`, "chaind_hashrate 1.5e+06\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q:\n%s", want, out)
		}
	}
}
