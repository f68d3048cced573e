package node_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chaind/chaind/bftchain"
	"github.com/chaind/chaind/internal/poll"
	"github.com/chaind/chaind/node"
	"github.com/chaind/chaind/rpc"
	"github.com/ethereum/go-ethereum/common"
)

// TestBFTStatusAndMetrics: on four validator nodes over TCP, bft_status
// shows a state machine whose lock and valid value agree with the
// algorithm (locked round <= valid round <= round, a value exactly when a
// round) and the head's commit as the node holds it; /metrics counts one
// rounds-per-height observation per committed height, their sum the
// committed rounds plus one, a commit latency for no more heights, and a
// machine height at most one past the head.
func TestBFTStatusAndMetrics(t *testing.T) {
	nodes, g := startBFTNet(t)
	vals := bftchain.Section(g).Validators
	poll.Until(t, time.Minute, "every node to commit 4 blocks", func() bool {
		for _, n := range nodes {
			if n.Chain().Head().Height() < 4 {
				return false
			}
		}
		return true
	})
	latencies := 0
	for i, n := range nodes {
		checkBFTStatus(t, i, n, vals)
		latencies += checkBFTMetrics(t, i, n)
	}
	if latencies == 0 {
		t.Error("no node observed a commit latency")
	}
}

// bftStatus is bft_status's answer.
type bftStatus struct {
	Machine *struct {
		Height      string       `json:"height"`
		Round       int32        `json:"round"`
		Step        string       `json:"step"`
		LockedRound int32        `json:"lockedRound"`
		LockedValue *common.Hash `json:"lockedValue"`
		ValidRound  int32        `json:"validRound"`
		ValidValue  *common.Hash `json:"validValue"`
	} `json:"machine"`
	LastCommit *struct {
		Height       string           `json:"height"`
		Hash         common.Hash      `json:"hash"`
		Round        int32            `json:"round"`
		Precommitted []common.Address `json:"precommitted"`
	} `json:"lastCommit"`
}

func checkBFTStatus(t *testing.T, i int, n *node.Node, vals []bftchain.GenesisValidator) {
	t.Helper()
	var s bftStatus
	if err := rpc.NewClient(n.RPCURL()).Call(context.Background(), &s, "bft_status"); err != nil {
		t.Fatalf("node %d: bft_status: %v", i, err)
	}
	if s.Machine == nil || s.LastCommit == nil {
		t.Fatalf("node %d: bft_status without a machine or a commit: %+v", i, s)
	}
	m, c := s.Machine, s.LastCommit
	mh, ch := hexUint(t, m.Height), hexUint(t, c.Height)
	if mh < 1 || mh > ch+1 || !slices.Contains([]string{"propose", "prevote", "precommit"}, m.Step) {
		t.Errorf("node %d: machine at height %d step %q, head's commit at %d", i, mh, m.Step, ch)
	}
	if m.LockedRound < -1 || m.LockedRound > m.ValidRound || m.ValidRound > m.Round ||
		(m.LockedValue == nil) != (m.LockedRound == -1) || (m.ValidValue == nil) != (m.ValidRound == -1) {
		t.Errorf("node %d: round %d, locked %d %v, valid %d %v", i, m.Round, m.LockedRound, m.LockedValue, m.ValidRound, m.ValidValue)
	}
	b, err := n.Chain().BlockByHeight(ch)
	if err != nil || b.Hash() != c.Hash {
		t.Fatalf("node %d: the status's commit is of %s at %d, the chain holds another (%v)", i, c.Hash, ch, err)
	}
	commit, err := bftchain.DecodeCommit(b.Proof)
	if err != nil {
		t.Fatal(err)
	}
	var signers []common.Address
	for _, sig := range commit.Sigs {
		signers = append(signers, vals[sig.Validator].Address)
	}
	if int32(commit.Round) != c.Round || !slices.Equal(signers, c.Precommitted) || len(signers) < 3 {
		t.Errorf("node %d: status commit round %d by %v, commit round %d by %v", i, c.Round, c.Precommitted, commit.Round, signers)
	}
}

// checkBFTMetrics checks n's BFT metrics against its chain and returns
// how many commit latencies it observed.
func checkBFTMetrics(t *testing.T, i int, n *node.Node) int {
	t.Helper()
	resp, err := http.Get(n.RPCURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := string(body)
	heights := int(metricValue(t, out, "chaind_bft_rounds_per_height_count"))
	rounds := metricValue(t, out, "chaind_bft_rounds_per_height_sum")
	latencies := int(metricValue(t, out, "chaind_bft_commit_latency_seconds_count"))
	machine := uint64(metricValue(t, out, "chaind_bft_height"))
	metricValue(t, out, "chaind_bft_round")
	head := n.Chain().Head().Height()
	if heights < 1 || uint64(heights) > head || latencies > heights || machine < 1 || machine > head+1 {
		t.Fatalf("node %d: %d heights observed, %d latencies, machine at %d, head %d", i, heights, latencies, machine, head)
	}
	// The node ran from genesis: it observed heights 1 to heights, in order.
	want := 0
	for h := 1; h <= heights; h++ {
		b, err := n.Chain().BlockByHeight(uint64(h))
		if err != nil {
			t.Fatal(err)
		}
		c, err := bftchain.DecodeCommit(b.Proof)
		if err != nil {
			t.Fatal(err)
		}
		want += int(c.Round) + 1
	}
	t.Logf("node %d: %d heights in %v rounds; %d commit latencies, %.3f s in all", i, heights, rounds, latencies,
		metricValue(t, out, "chaind_bft_commit_latency_seconds_sum"))
	if rounds != float64(want) {
		t.Errorf("node %d: %v rounds over %d heights, their commits' rounds plus one sum to %d", i, rounds, heights, want)
	}
	return latencies
}

// metricValue is the value of an unlabelled sample of /metrics.
func metricValue(t *testing.T, out, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("/metrics lacks %s", name)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func hexUint(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}
