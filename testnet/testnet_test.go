package testnet

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/rpc"
	"github.com/chaind/chaind/stats"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

var (
	chaindBin string
	soak      = flag.Bool("soak", false, "run the long stale-rate measurement (minutes)")
)

// TestMain builds the chaind binary that the testnets run.
func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "chaind-testnet-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chaindBin = filepath.Join(dir, "chaind")
	if out, err := exec.Command("go", "build", "-o", chaindBin, "../cmd/chaind").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build chaind: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// up starts a testnet and takes it down when the test ends, pass or fail.
func up(t *testing.T, opts Options) *Supervisor {
	t.Helper()
	opts.Binary, opts.Logger = chaindBin, quiet()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := Up(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Down() })
	return s
}

// heights returns each live node's head height (-1 for a dead node).
func heights(s *Supervisor) []int64 {
	var out []int64
	for _, n := range s.Status(context.Background()) {
		if !n.Alive || n.Error != "" {
			out = append(out, -1)
			continue
		}
		out = append(out, int64(n.Height))
	}
	return out
}

func minHeight(s *Supervisor) int64 {
	m := int64(1 << 62)
	for _, h := range heights(s) {
		m = min(m, h)
	}
	return m
}

func sameHead(s *Supervisor) bool {
	st := s.Status(context.Background())
	for _, n := range st {
		if !n.Alive || n.Error != "" || n.Head != st[0].Head {
			return false
		}
	}
	return true
}

// TestKillRestartPartitionHeal: four PoW nodes on shaped links; one is
// killed and restarted; the network is split 2|2 and healed. Every node ends
// on the same head, and the report counts the reorgs the partition caused,
// at least one deeper than one block.
func TestKillRestartPartitionHeal(t *testing.T) {
	s := up(t, Options{Nodes: 4, BlockTime: 300 * time.Millisecond, Seed: 7,
		Link: LinkParams{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond}})
	poll.Until(t, 60*time.Second, "all nodes past height 3", func() bool { return minHeight(s) >= 3 })
	if err := s.SendTxs(20, 20); err != nil {
		t.Fatal(err)
	}
	if err := s.Kill(3); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := s.Restart(3); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "the restarted node to catch up", sameHeadSoon(s))
	if err := s.Partition([][]int{{0, 1}, {2, 3}}); err != nil {
		t.Fatal(err)
	}
	checkCutsInNodes(t, s)
	split := heights(s)
	if err := s.SendTxs(20, 40); err != nil { // nonces alternate between the halves
		t.Fatal(err)
	}
	untilHalvesGrow(t, s, split, 4, 60*time.Second)
	s.Heal()
	poll.Until(t, 60*time.Second, "the nodes to converge after the heal", sameHeadSoon(s))
	poll.Until(t, 60*time.Second, "every transfer to be mined once the halves meet", func() bool {
		var n hexutil.Uint64
		_, c := s.liveClient(0)
		return c.Call(context.Background(), &n, "eth_getTransactionCount", crypto.PubkeyToAddress(s.funded.PublicKey), "latest") == nil && n == 40
	})
	if err := s.SetLink(0, 1, LinkParams{Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	rep, err := WriteReport(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.HeadsAgree {
		t.Fatal("report: final heads differ")
	}
	if rep.MaxReorgDepth < 2 {
		t.Fatalf("the partition caused no reorg deeper than one block: %+v", rep.ReorgDepths)
	}
	if rep.Produced < rep.Canonical || rep.Stale == 0 {
		t.Fatalf("a partition must leave stale blocks: %d produced, %d canonical", rep.Produced, rep.Canonical)
	}
	for _, f := range []string{"report.md", "report.json", "heads.svg", "reorg-depth.svg", "blocktree-node0.svg", "dashboard.html"} {
		data, err := os.ReadFile(filepath.Join(s.Dir(), f))
		if err != nil || len(data) == 0 {
			t.Fatalf("%s: %v", f, err)
		}
		if strings.HasSuffix(f, ".svg") && strings.Count(string(data), "<path") < 10 {
			t.Fatalf("%s draws nothing", f)
		}
	}
	// The report's dashboard shows the links as the run left them.
	r, err := LoadRecords(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range recordedView(r).Links {
		want := 10.0
		if l.From == 0 && l.To == 1 {
			want = 300
		}
		if l.LatencyMs != want || l.Cut {
			t.Errorf("dashboard.html: link %d -> %d at %v ms (cut %v), want %v ms", l.From, l.To, l.LatencyMs, l.Cut, want)
		}
	}
	if rep.TxsSent == 0 || rep.TxsMined != rep.TxsSent {
		canon := canonicalChain(r)
		for _, tx := range r.Txs {
			if tx.Block == nil || !canon[*tx.Block] {
				t.Logf("transfer %x: block %v, in the records %v", tx.Hash, tx.Block, tx.Block != nil && r.Blocks[*tx.Block] != nil)
			}
		}
		t.Fatalf("%d of %d transfers mined (canonical chain %d blocks, %d recorded)", rep.TxsMined, rep.TxsSent, len(canon), len(r.Blocks))
	}
	t.Logf("stale %d/%d, reorgs %v, propagation %s", rep.Stale, rep.Produced, rep.ReorgDepths, rep.Propagation)
}

// nodeLinks is node i's link faults as its link_list RPC answers, by peer IP.
func nodeLinks(t *testing.T, s *Supervisor, i int) map[string]LinkParams {
	t.Helper()
	var links map[string]LinkParams
	if err := rpc.NewClient(s.State().Nodes[i].RPC).Call(context.Background(), &links, "link_list"); err != nil {
		t.Fatal(err)
	}
	return links
}

// nodeIP is node i's address, as its peers see it.
func nodeIP(s *Supervisor, i int) string {
	host, _, _ := net.SplitHostPort(s.State().Nodes[i].P2P)
	return host
}

// untilHalvesGrow waits until nodes 0 and 2, one in each half of a
// {0,1}|{2,3} partition, are each n blocks past their heights at the split.
func untilHalvesGrow(t *testing.T, s *Supervisor, split []int64, n int64, timeout time.Duration) {
	t.Helper()
	poll.Until(t, timeout, fmt.Sprintf("both halves to grow by %d blocks", n), func() bool {
		h := heights(s)
		return h[0] >= split[0]+n && h[2] >= split[2]+n
	})
}

// checkCutsInNodes: during a partition {0,1}|{2,3} the cuts are in the
// nodes' own transport, not in a proxy of the supervisor: node 0 holds its
// links to nodes 2 and 3, at addresses of their own, cut, and its link to
// node 1 whole.
func checkCutsInNodes(t *testing.T, s *Supervisor) {
	t.Helper()
	links := nodeLinks(t, s, 0)
	ips := map[string]bool{}
	for i := range 4 {
		ips[nodeIP(s, i)] = true
	}
	if len(ips) != 4 || !links[nodeIP(s, 2)].Cut || !links[nodeIP(s, 3)].Cut || links[nodeIP(s, 1)].Cut {
		t.Fatalf("node 0's links during the partition: %v (the nodes at %v)", links, ips)
	}
}

// sameHeadSoon holds once every node reports the same head twice in a row
// half a second apart, so that blocks still in flight are waited for.
func sameHeadSoon(s *Supervisor) func() bool {
	return func() bool {
		if !sameHead(s) {
			return false
		}
		time.Sleep(300 * time.Millisecond)
		return sameHead(s)
	}
}

// processGone reports whether pid has exited (a zombie counts as gone).
func processGone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// TestStaleRateMatchesModel measures the PoW stale rate with a one-way delay
// d that is large against the block interval T, and tests it against the
// model 1 - exp(-((n-1)/n) d/T) with the exact two-sided binomial test at
// the 1% level. The run is long enough for the test to have power: about
// 1,000 blocks, so that a deviation of 30% from the model (0.14 here) is
// detected with 80% power; the test fails if the run made too few blocks
// for that. It runs for minutes: go test -run StaleRate ./testnet -soak.
func TestStaleRateMatchesModel(t *testing.T) {
	if !*soak {
		t.Skip("takes minutes; run with -soak")
	}
	const duration = 500 * time.Second
	s := up(t, Options{Nodes: 4, BlockTime: 500 * time.Millisecond, Seed: 11, Link: LinkParams{Latency: 100 * time.Millisecond}})
	time.Sleep(duration)
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	rep, err := WriteReport(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	model := rep.ModelStaleRateMeasured
	resolution := stats.Detectable(model, rep.Produced, ModelLevel, 0.8) / model
	t.Logf("%d blocks in %.0f s: stale rate %.4f [%.4f, %.4f]; model %.4f (d %.1f ms measured, T %.0f ms); simple model with d = latency %.4f; exact test p = %.3g; resolution ±%.0f%%",
		rep.Produced, rep.DurationSec, rep.StaleRate, rep.StaleRateCI.Lo, rep.StaleRateCI.Hi, model, rep.DelayMs, rep.ProductionIntervalMs, rep.ModelStaleRate, rep.ModelPValue, 100*resolution)
	if resolution > 0.3 {
		t.Fatalf("%d blocks can only detect deviations of %.0f%% from the model: the test has no power", rep.Produced, 100*resolution)
	}
	if rep.ModelPValue < ModelLevel {
		t.Fatalf("stale rate %.4f against the model's %.4f: p = %.3g < %.2g", rep.StaleRate, model, rep.ModelPValue, ModelLevel)
	}
}
