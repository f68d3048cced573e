package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/chaind/chaind/testnet"
)

// TestTestnetUpRefusesBadFlags: flags that used to be changed or ignored
// in silence are refused before anything starts, and a detached
// supervisor's own error reaches the user.
func TestTestnetUpRefusesBadFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("runs chaind processes")
	}
	dir := filepath.Join(t.TempDir(), "tn")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "0"}, "--nodes 0: want 1 to 64"},
		{[]string{"--nodes", "-3", "--detach"}, "--nodes -3: want 1 to 64"},
		{[]string{"--consensus", "pos", "--hashpower", "40,30,20,10"}, "--hashpower is a pow flag; this testnet runs --consensus pos"},
		{[]string{"--stakes", "40,30,20,10"}, "--stakes is a pos flag; this testnet runs --consensus pow"},
		{[]string{"--consensus", "pos", "--stakes", "40,30", "--detach"}, "2 stakes for 4 nodes"},
		{[]string{"--backend", "vm"}, `backend "vm": want processes, docker, swarm or kubernetes`},
		// Only the supervisor measures the machine: its error comes back
		// from its log.
		{[]string{"--nodes", "1", "--hashrate", "1e15", "--detach"}, "it cannot supply 1e+15 in all"},
	} {
		out, err := runChaind(t, append([]string{"testnet", "up", "--dir", dir, "--duration", "5s"}, c.args...)...)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("testnet up %s: %v; want an error with %q in:\n%s", strings.Join(c.args, " "), err, c.want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "genesis.json")); err == nil {
		t.Error("a refused testnet up wrote a genesis")
	}
	for _, cmd := range [][]string{{"testnet", "compare", "--out", dir}, {"testnet", "attack", "--dir", dir}} {
		if out, err := runChaind(t, append(cmd, "--nodes", "0")...); err == nil || !strings.Contains(out, "--nodes 0: ") {
			t.Errorf("%s --nodes 0: %v; want a refusal in:\n%s", strings.Join(cmd, " "), err, out)
		}
	}
}

// TestTestnetDirOwnership: a directory belongs to one supervisor. A second
// up on a running testnet is refused and leaves it alone; down stops it
// even after its testnet.json is gone; a stopped testnet is continued only
// with --resume and replaced only with --force.
func TestTestnetDirOwnership(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a testnet of node processes")
	}
	dir := filepath.Join(t.TempDir(), "tn")
	var pids []int
	t.Cleanup(func() {
		for _, pid := range pids { // whatever happened above, leave no process behind
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	up := func(extra ...string) (string, error) {
		t.Helper()
		out, err := runChaind(t, append([]string{"testnet", "up", "--nodes", "2", "--block-time", "500ms", "--dir", dir, "--detach"}, extra...)...)
		if st, serr := testnet.ReadState(dir); serr == nil && err == nil {
			pids = append(pids, st.PID)
			for _, n := range st.Nodes {
				pids = append(pids, n.PID)
			}
		}
		return out, err
	}
	if out, err := up(); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	first, err := testnet.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "a supervisor (pid " + strconv.Itoa(first.PID) + ") is already running in " + dir
	for _, extra := range [][]string{nil, {"--resume"}, {"--force"}} {
		if out, err := up(extra...); err == nil || !strings.Contains(out, want) {
			t.Fatalf("a second up %v on a running testnet: %v; want %q in:\n%s", extra, err, want, out)
		}
	}
	if st, err := testnet.ReadState(dir); err != nil || st.PID != first.PID {
		t.Fatalf("after the refused up, testnet.json: %v, %+v", err, st)
	}
	// Whatever happened to the state file, down finds the supervisor.
	if err := os.Remove(filepath.Join(dir, "testnet.json")); err != nil {
		t.Fatal(err)
	}
	if out, err := runChaind(t, "testnet", "down", "--dir", dir); err != nil || !strings.Contains(out, "testnet down") {
		t.Fatalf("down without testnet.json: %v\n%s", err, out)
	}
	for _, pid := range append([]int{first.PID}, first.Nodes[0].PID, first.Nodes[1].PID) {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still runs after down", pid)
		}
	}
	genesis, err := os.ReadFile(filepath.Join(dir, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := up(); err == nil || !strings.Contains(out, "holds a testnet from an earlier run; --resume") {
		t.Fatalf("up on a stopped testnet: %v; want the refusal in:\n%s", err, out)
	}
	for _, extra := range []string{"--resume", "--force"} {
		if out, err := up(extra); err != nil {
			t.Fatalf("up %s: %v\n%s", extra, err, out)
		}
		if out, err := runChaind(t, "testnet", "down", "--dir", dir); err != nil {
			t.Fatalf("down: %v\n%s", err, out)
		}
		again, err := os.ReadFile(filepath.Join(dir, "genesis.json"))
		if err != nil {
			t.Fatal(err)
		}
		if same := string(again) == string(genesis); same != (extra == "--resume") {
			t.Errorf("up %s: genesis kept = %v", extra, same)
		}
	}
}
