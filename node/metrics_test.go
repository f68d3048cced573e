package node_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/rpc"
)

// TestMetricsEndpoint scrapes /metrics on a mining node's RPC address: every
// chaind metric is there, the head height is the chain's, a JSON-RPC call
// shows up under its method and an unknown method does not; promtool (when
// installed) accepts the output.
func TestMetricsEndpoint(t *testing.T) {
	n := startNode(t, fastGenesis(1))
	deadline := time.Now().Add(30 * time.Second)
	for n.Chain().Head().Height() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no blocks mined")
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.Miner().Stop()
	c := rpc.NewClient(n.RPCURL())
	var bn string
	if err := c.Call(context.Background(), &bn, "eth_blockNumber"); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), nil, "no_suchMethod"); err == nil {
		t.Fatal("an unknown method succeeded")
	}
	resp, err := http.Get(n.RPCURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	out := string(body)
	for _, name := range []string{"chaind_head_height", "chaind_reorgs_total", "chaind_reorg_depth_bucket", "chaind_peers",
		"chaind_mempool_pending", "chaind_hashrate", "chaind_rpc_request_duration_seconds_bucket"} {
		if !strings.Contains(out, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	m := regexp.MustCompile(`(?m)^chaind_head_height (\d+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no head height:\n%s", out)
	}
	if h, _ := strconv.ParseUint(m[1], 10, 64); h != n.Chain().Head().Height() {
		t.Errorf("chaind_head_height %d, chain head %d", h, n.Chain().Head().Height())
	}
	if !strings.Contains(out, `method="eth_blockNumber"`) || strings.Contains(out, "no_suchMethod") {
		t.Errorf("RPC timing labels wrong: eth_blockNumber should be there, no_suchMethod not")
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool is not installed (apt-get install prometheus); the exposition format was not linted")
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
