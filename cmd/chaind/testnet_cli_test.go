package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestTestnetControlCLI drives a detached testnet through the CLI: up
// --detach prints the dashboard and every node's RPC URL, and each control
// command says what it did.
func TestTestnetControlCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a testnet of node processes")
	}
	dir := filepath.Join(t.TempDir(), "tn")
	t.Cleanup(func() {
		runChaind(t, "testnet", "down", "--dir", dir)
		// Whatever happened above, leave no supervisor behind.
		if data, err := os.ReadFile(filepath.Join(dir, "testnet.json")); err == nil {
			var st struct{ PID int }
			if json.Unmarshal(data, &st) == nil && st.PID > 0 {
				syscall.Kill(st.PID, syscall.SIGKILL)
			}
		}
	})
	expect := func(want string, args ...string) string {
		t.Helper()
		out, err := runChaind(t, append(args, "--dir", dir)...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("chaind %s: %v; want %q in:\n%s", strings.Join(args, " "), err, want, out)
		}
		return out
	}
	out := expect("Dashboard: http://127.0.0.1:", "testnet", "up", "--nodes", "3", "--block-time", "500ms", "--detach")
	urls := regexp.MustCompile(`(?m)^  node (\d)  RPC http://127(?:\.\d+){3}:\d+$`).FindAllStringSubmatch(out, -1)
	if len(urls) != 3 {
		t.Fatalf("up --detach printed %d node URLs, want 3:\n%s", len(urls), out)
	}
	expect("sending 5 transfers", "testnet", "send", "--count", "5", "--rate", "5")
	expect("partitioned the testnet into [0] | [1 2]", "testnet", "partition", "0", "1,2")
	expect("healed the testnet", "testnet", "heal")
	expect("link 0 -> 1: latency 100ms, jitter 0s, loss 0.05, bandwidth unlimited", "testnet", "set-link", "0", "1", "--latency", "100ms", "--loss", "0.05")
	expect("node 2 killed", "testnet", "kill", "2")
	expect("node 2 restarted", "testnet", "restart", "2")
	st := expect("NODE", "testnet", "status")
	if strings.Count(st, " up ") != 3 {
		t.Fatalf("status after the restart:\n%s", st)
	}
	expect("testnet down", "testnet", "down")
}
