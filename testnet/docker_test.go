package testnet

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/dockerd"
	"github.com/chaind/chaind/internal/poll"
)

// staticChaind builds chaind with CGO_ENABLED=0, as a scratch image needs.
func staticChaind(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chaind")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/chaind")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	return bin
}

// buildImage builds a static chaind and its image, tagged tag, which the
// test's end removes.
func buildImage(t *testing.T, tag string) {
	t.Helper()
	if err := BuildImage(staticChaind(t), tag, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dockerCmd("rmi", "--force", tag) })
}

// dockerLists are the docker commands that list the daemon's containers,
// networks and volumes.
var dockerLists = [][]string{{"ps", "--all", "--quiet"}, {"network", "ls", "--quiet"}, {"volume", "ls", "--quiet"}}

// dockerObjects lists every container, network and volume the daemon holds.
func dockerObjects(t *testing.T) []string {
	t.Helper()
	return daemonObjects(t, dockerLists)
}

// daemonObjects runs each docker list command (with --quiet) and returns
// the ids it printed, each after its command's first word, sorted.
func daemonObjects(t *testing.T, lists [][]string) []string {
	t.Helper()
	var all []string
	for _, args := range lists {
		out, err := dockerCmd(args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range strings.Fields(out) {
			all = append(all, args[0]+" "+id)
		}
	}
	slices.Sort(all)
	return all
}

// TestDockerBackend: four PoW nodes, each in a container of a FROM scratch
// image on a network the testnet creates, driven through the provider:
// every node is alive at its container's address and they agree on a head;
// a 2|2 partition, set in the nodes' own transport over their link_ RPC
// (no proxy runs), splits them into two chains; a killed container restarts
// on its data; the heal joins them on one head; set-link shapes the link in
// the node that sends on it; the Compose file is written;
// and Down leaves no container, network or volume that was not there
// before. It needs a Docker daemon (internal/dockerd starts one as root).
func TestDockerBackend(t *testing.T) {
	dockerd.Start(t)
	tag := "chaind:testnet-test"
	buildImage(t, tag)
	if err := BuildImage(chaindBin, tag, io.Discard); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("an image of a dynamically linked chaind: %v, want a refusal naming CGO_ENABLED=0", err)
	}
	before := dockerObjects(t)
	s := up(t, Options{Backend: BackendDocker, Image: tag, Nodes: 4, BlockTime: 300 * time.Millisecond, Seed: 7})
	for _, n := range s.State().Nodes {
		if !n.Alive || strings.Contains(n.RPC, "127.0.0.1") {
			t.Fatalf("node %d: alive %v at %s, want a live container at its own address", n.Index, n.Alive, n.RPC)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "docker-compose.yml")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 90*time.Second, "all nodes past height 3", func() bool { return minHeight(s) >= 3 })
	poll.Until(t, 60*time.Second, "the nodes to agree on a head", sameHeadSoon(s))

	if err := s.Partition([][]int{{0, 1}, {2, 3}}); err != nil {
		t.Fatal(err)
	}
	split := heights(s)
	untilHalvesGrow(t, s, split, 4, 90*time.Second)
	if sameHead(s) {
		t.Fatal("the halves of a partition share a head")
	}
	checkCutsInNodes(t, s)
	if err := s.Kill(3); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(3); err != nil {
		t.Fatal(err)
	}
	s.Heal()
	poll.Until(t, 90*time.Second, "the nodes to converge after the heal", sameHeadSoon(s))
	// A link's shaping, too, is set in the node that sends on it.
	if err := s.SetLink(0, 1, LinkParams{Latency: 20 * time.Millisecond, Bandwidth: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	links := nodeLinks(t, s, 0)
	if want := (LinkParams{Latency: 20 * time.Millisecond, Bandwidth: 1 << 20}); len(links) != 1 || links[nodeIP(s, 1)] != want {
		t.Fatalf("node 0's links after set-link 0->1: %v, want only %s: %+v", links, nodeIP(s, 1), want)
	}
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	if after := dockerObjects(t); !slices.Equal(before, after) {
		t.Fatalf("docker objects before the testnet %v, after its Down %v", before, after)
	}
}
