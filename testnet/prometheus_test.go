package testnet

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
)

// TestPrometheusScrapesEveryNode runs a 3-node testnet with Prometheus and
// queries chaind_head_height across it; after a restart (a new RPC port)
// the node is scraped again. Skipped without Debian's prometheus package.
func TestPrometheusScrapesEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a testnet and a Prometheus server")
	}
	if _, err := exec.LookPath("prometheus"); err != nil {
		t.Skip("prometheus is not installed (apt-get install prometheus)")
	}
	s := up(t, Options{Nodes: 3, BlockTime: 500 * time.Millisecond, Prometheus: true})
	u, err := s.PrometheusURL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "prometheus", "prometheus.yml")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "Prometheus to report chaind_head_height > 0 for all 3 nodes", func() bool {
		return len(headHeights(t, u)) == 3
	})
	if err := s.Kill(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(1); err != nil {
		t.Fatal(err)
	}
	rpc1 := s.State().Nodes[1].RPC
	poll.Until(t, 60*time.Second, "Prometheus to scrape the restarted node on its new port", func() bool {
		v, ok := queryTargets(t, u)[rpc1]
		return ok && v == "up"
	})
}

// headHeights is chaind_head_height > 0 by node label, from Prometheus.
func headHeights(t *testing.T, promURL string) map[string]string {
	t.Helper()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	getJSON(t, promURL+"/api/v1/query?query="+url.QueryEscape("chaind_head_height > 0"), &r)
	out := map[string]string{}
	for _, x := range r.Data.Result {
		if len(x.Value) == 2 {
			out[x.Metric["node"]], _ = x.Value[1].(string)
		}
	}
	return out
}

// queryTargets is each active target's health by scrape URL host.
func queryTargets(t *testing.T, promURL string) map[string]string {
	t.Helper()
	var r struct {
		Data struct {
			Active []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	getJSON(t, promURL+"/api/v1/targets", &r)
	out := map[string]string{}
	for _, a := range r.Data.Active {
		if u, err := url.Parse(a.ScrapeURL); err == nil {
			out["http://"+u.Host] = a.Health
		}
	}
	return out
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Logf("GET %s: %v", u, err)
		return
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Logf("GET %s: %v", u, err)
	}
}
