package testnet

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/dockerd"
	"github.com/chaind/chaind/internal/poll"
)

// joinSwarm makes the daemon a one-machine swarm manager for the rest of t
// unless it is one already, and leaves the swarm it made when t ends
// (with the docker_gwbridge network its first task made), so that the
// daemon's swarm state is as found.
func joinSwarm(t *testing.T) {
	t.Helper()
	state, err := dockerCmd("info", "--format", "{{.Swarm.LocalNodeState}}")
	if err != nil {
		t.Fatal(err)
	}
	if state == "active" {
		return
	}
	if state != "inactive" {
		t.Skipf("the Docker daemon's swarm is %q; the test joins none", state)
	}
	_, gwMissing := dockerCmd("network", "inspect", "docker_gwbridge")
	if _, err := dockerCmd("swarm", "init", "--advertise-addr", "127.0.0.1"); err != nil {
		t.Skipf("docker swarm init: %v", err)
	}
	t.Cleanup(func() {
		if _, err := dockerCmd("swarm", "leave", "--force"); err != nil {
			t.Errorf("leaving the test's swarm: %v", err)
		}
		if gwMissing != nil {
			dockerCmd("network", "rm", "docker_gwbridge")
		}
	})
}

// swarmObjects lists the swarm's services, configs and secrets besides
// the daemon's containers, networks and volumes (dockerObjects).
func swarmObjects(t *testing.T) []string {
	t.Helper()
	return daemonObjects(t, append([][]string{{"service", "ls", "--quiet"}, {"config", "ls", "--quiet"}, {"secret", "ls", "--quiet"}}, dockerLists...))
}

// TestSwarmBackend: four PoW nodes as the services of a stack on a
// one-machine swarm (the test's own daemon, swarm init by the test and left
// after), on an overlay network with DNS round robin (no IPVS here), their
// RPC published in host mode: they agree on a head; a 2|2 partition set in
// the nodes' own transport splits them; a killed node's task is started
// again by the provider on its data, and the others' links to it follow
// its task's address; the heal joins them on one head; the stack file is
// written, and each task's output reaches its node's log; and Down leaves
// no service, network, config, container or volume behind.
func TestSwarmBackend(t *testing.T) {
	dockerd.Start(t)
	joinSwarm(t)
	tag := "chaind:swarm-test"
	buildImage(t, tag)
	before := swarmObjects(t)
	s := up(t, Options{Backend: BackendSwarm, Image: tag, Nodes: 4, BlockTime: 300 * time.Millisecond, Seed: 7})
	for _, n := range s.State().Nodes {
		if !n.Alive || !strings.HasPrefix(nodeIP(s, n.Index), "10.") {
			t.Fatalf("node %d: alive %v at %s, want a live task on the overlay", n.Index, n.Alive, n.P2P)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), StackFile)); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "node 0's output in its log", func() bool {
		log, _ := os.ReadFile(filepath.Join(s.nodeDir(0), "node.log"))
		return strings.Contains(string(log), "chaind node running")
	})
	poll.Until(t, 60*time.Second, "all nodes past height 3", func() bool { return minHeight(s) >= 3 })
	poll.Until(t, 60*time.Second, "the nodes to agree on a head", sameHeadSoon(s))

	if err := s.Partition([][]int{{0, 1}, {2, 3}}); err != nil {
		t.Fatal(err)
	}
	split := heights(s)
	untilHalvesGrow(t, s, split, 3, 60*time.Second)
	if sameHead(s) {
		t.Fatal("the halves of a partition share a head")
	}
	checkCutsInNodes(t, s)
	old := nodeIP(s, 3)
	if err := s.Kill(3); err != nil {
		t.Fatal(err)
	}
	if s.State().Nodes[3].Alive {
		t.Fatal("node 3 alive after its kill")
	}
	if err := s.Restart(3); err != nil {
		t.Fatal(err)
	}
	t.Logf("node 3's task at %s, after its restart at %s", old, nodeIP(s, 3))
	checkCutsInNodes(t, s)
	if links := nodeLinks(t, s, 0); len(links) != 2 {
		t.Fatalf("node 0's links after node 3's restart: %v, want only those to nodes 2 and 3", links)
	}
	s.Heal()
	poll.Until(t, 60*time.Second, "the nodes to converge after the heal", sameHeadSoon(s))
	if err := s.Down(); err != nil {
		t.Fatal(err)
	}
	if after := swarmObjects(t); !slices.Equal(before, after) {
		t.Fatalf("docker objects before the testnet %v, after its Down %v", before, after)
	}
}
