package testnet

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chaind/chaind/internal/poll"
)

// statePIDs waits for the supervisor in dir to write its state and returns
// the supervisor's and the nodes' process ids.
func statePIDs(t *testing.T, dir string, nodes int) (int, []int) {
	t.Helper()
	var st *State
	poll.Until(t, 60*time.Second, "the testnet to come up", func() bool {
		s, err := ReadState(dir)
		if err != nil || len(s.Nodes) != nodes {
			return false
		}
		for _, n := range s.Nodes {
			if n.PID == 0 {
				return false
			}
		}
		st = s
		return true
	})
	var pids []int
	for _, n := range st.Nodes {
		pids = append(pids, n.PID)
	}
	return st.PID, pids
}

func allGone(t *testing.T, what string, pids ...int) {
	t.Helper()
	poll.Until(t, 30*time.Second, what, func() bool {
		for _, p := range pids {
			if !processGone(p) {
				return false
			}
		}
		return true
	})
}

func chaind(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(chaindBin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestNoProcessOutlivesTheTestnet: after `down`, after Ctrl-C on a
// foreground `up`, and after the supervisor itself is killed (as when a test
// fails), no node process is left.
func TestNoProcessOutlivesTheTestnet(t *testing.T) {
	t.Run("down", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tn")
		out, err := exec.Command(chaindBin, "testnet", "up", "--detach", "--nodes", "2", "--dir", dir, "--block-time", "500ms").CombinedOutput()
		if err != nil {
			t.Fatalf("up --detach: %v\n%s", err, out)
		}
		sup, nodes := statePIDs(t, dir, 2)
		if out, err := exec.Command(chaindBin, "testnet", "status", "--dir", dir).CombinedOutput(); err != nil {
			t.Fatalf("status: %v\n%s", err, out)
		}
		if out, err := exec.Command(chaindBin, "testnet", "down", "--dir", dir).CombinedOutput(); err != nil {
			t.Fatalf("down: %v\n%s", err, out)
		}
		allGone(t, "every process to exit after down", append(nodes, sup)...)
	})
	t.Run("ctrl-c", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tn")
		cmd := chaind(t, "testnet", "up", "--nodes", "2", "--dir", dir, "--block-time", "500ms")
		_, nodes := statePIDs(t, dir, 2)
		cmd.Process.Signal(syscall.SIGINT)
		allGone(t, "every node to exit after Ctrl-C", nodes...)
	})
	t.Run("supervisor killed", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "tn")
		cmd := chaind(t, "testnet", "up", "--nodes", "2", "--dir", dir, "--block-time", "500ms")
		_, nodes := statePIDs(t, dir, 2)
		cmd.Process.Kill()
		allGone(t, "every node to die with its supervisor", nodes...)
	})
}
